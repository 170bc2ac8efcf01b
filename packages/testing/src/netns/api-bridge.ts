import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns';

// Inside the namespace: 127.0.0.1:<port> → the unix socket the host side listens on.
const FORWARDER = `
const net = require('node:net');
net.createServer((c) => { const u = net.connect(process.argv[1]); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

/** A TCP forwarder from inside a namespace to a host port (the in-process API server). */
export interface NetnsTcpBridge {
  /** The port on the namespace's 127.0.0.1 that reaches the host's `hostPort`. */
  readonly port: number;
  /** Stops forwarding and closes every forwarded connection. */
  close(): Promise<void>;
}

/**
 * Makes a TCP port on the host's loopback (the in-process API server's) reachable as
 * 127.0.0.1:`port` inside `ns`, which cannot see the host's loopback: a unix socket crosses the
 * namespace boundary, a forwarder spawned in the namespace listens on the port. TLS passes
 * through untouched. The forwarder dies with `ns.delete()` or `close()`.
 */
export async function bridgeIntoNetns(ns: Netns, hostPort: number, port = 6443): Promise<NetnsTcpBridge> {
  const dir = mkdtempSync(join(tmpdir(), `na-bridge-${process.pid}-`));
  const sock = join(dir, 'tcp.sock');
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    const up = connect(hostPort, '127.0.0.1');
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    c.pipe(up);
    up.pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((resolve) => server.listen(sock, () => resolve()));
  const forwarder = ns.spawn(process.execPath, ['-e', FORWARDER, sock, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const close = async () => {
    if (forwarder.exitCode === null && forwarder.signalCode === null) forwarder.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      forwarder.stdout?.once('data', () => resolve());
      forwarder.once('exit', (code) => reject(new Error(`netns forwarder exited (${code})`)));
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { port, close };
}
