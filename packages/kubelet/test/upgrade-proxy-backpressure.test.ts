import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyUpgrade } from '../src/server/upgrade-proxy';

// Issue #48: "a websocket/SPDY stream that never reads". An exec or attach stream is proxied to
// the runtime's streaming server byte for byte (upgrade-proxy.ts). When the client stops reading,
// the kubelet must stop reading from the runtime too, so what piles up is bounded by the two
// sockets' kernel buffers, not by the kubelet's memory: a container writing without end to a
// stalled client would otherwise grow the kubelet until it is OOM-killed.

/** Far above what two loopback sockets' kernel buffers hold (a few MiB): reaching it means the proxy buffers in memory. */
const UNBOUNDED_BYTES = 256 * 1024 * 1024;
/** A write stalled for this long without a 'drain' counts as held back. */
const STALL_MS = 2000;
const CHUNK = Buffer.alloc(64 * 1024, 0x79);

let servers: (Server | HttpServer)[] = [];
let sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
  sockets = [];
});

function listening<T extends Server | HttpServer>(server: T): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/**
 * A streaming server that answers the upgrade and then writes as fast as the connection takes,
 * waiting for 'drain' whenever a write is refused. Resolves with the bytes written once a write
 * has waited STALL_MS for its 'drain', or once UNBOUNDED_BYTES are written.
 */
function floodingRuntime(): { port: Promise<number>; written: Promise<number> } {
  let resolveWritten: (bytes: number) => void = () => undefined;
  const written = new Promise<number>((resolve) => {
    resolveWritten = resolve;
  });
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', async () => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      let bytes = 0;
      while (bytes < UNBOUNDED_BYTES) {
        bytes += CHUNK.length;
        if (socket.write(CHUNK)) continue;
        const drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), STALL_MS);
          socket.once('drain', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!drained) break;
      }
      resolveWritten(bytes);
    });
  });
  return { port: listening(server), written };
}

describe('an upgraded stream whose client never reads', () => {
  it("holds the runtime's writes back instead of buffering them in the kubelet", async () => {
    const runtime = floodingRuntime();
    const runtimePort = await runtime.port;
    const kubelet = createHttpServer();
    kubelet.on('upgrade', (request, socket, head) =>
      proxyUpgrade(request, socket, head, `http://127.0.0.1:${runtimePort}/exec/token`, ''),
    );
    const kubeletPort = await listening(kubelet);
    // The client sends its upgrade request and then never reads a byte.
    const client = connect(kubeletPort, '127.0.0.1');
    sockets.push(client);
    client.pause();
    client.write('POST /exec/ns/pod/app?command=yes&output=1 HTTP/1.1\r\nHost: node\r\n');
    client.write('Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    const heapBefore = process.memoryUsage().arrayBuffers;
    const written = await runtime.written;
    // Bounded by the kernel's socket buffers on both hops (wmem/rmem), far below the cap.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(written).toBeGreaterThan(0);
    // And nothing of it sits in this process's Buffers.
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);
});
