import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { exitFromStatus, StreamingError } from '../src/index';
import { openWebSocket } from '../src/streaming/websocket-client';

const servers: Server[] = [];
const upgraded: Duplex[] = [];
afterEach(async () => {
  for (const socket of upgraded.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** An HTTP server on 127.0.0.1 that hands every upgrade to `onUpgrade`; resolves to its base URL. */
async function upgradeServer(
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(400).end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.push(socket);
    onUpgrade(req, socket, head);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/token`;
}

/** A ws server end for each upgrade, speaking the first offered protocol. */
function wsPeer(onConnection: (ws: WebSocket) => void) {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered][0] ?? false });
  return (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
}

/** The Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2). */
const acceptFor = (key: string) =>
  createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

describe('WebSocket client (ws)', () => {
  it('negotiates the subprotocol, joins fragments into one message, answers pings and sends binary', async () => {
    let pinged!: () => void;
    const ponged = new Promise<void>((resolve) => {
      pinged = resolve;
    });
    let received!: (data: Buffer) => void;
    const fromClient = new Promise<Buffer>((resolve) => {
      received = resolve;
    });
    const url = await upgradeServer(
      wsPeer((ws) => {
        ws.on('pong', () => pinged());
        ws.on('message', (data: Buffer) => received(data));
        ws.send(Buffer.from([1, 0x61]), { fin: false });
        ws.send(Buffer.from('bc'), { fin: true });
        ws.ping();
      }),
    );
    const connection = await openWebSocket(url, ['v4.channel.k8s.io', 'channel.k8s.io']);
    expect(connection.protocol).toBe('v4.channel.k8s.io');
    const messages: Buffer[] = [];
    connection.on('message', (m: Buffer) => messages.push(m));
    connection.start();
    await ponged;
    expect(messages).toEqual([Buffer.from([1, 0x61, 0x62, 0x63])]);
    connection.send(Buffer.from([0, 0x78]));
    expect(await fromClient).toEqual(Buffer.from([0, 0x78]));
    const closed = new Promise<number>((resolve) => connection.on('close', resolve));
    connection.close(1000);
    expect(await closed).toBe(1000);
  });

  it('holds what came in the same write as the 101 answer until start()', async () => {
    let echoed!: () => void;
    const clientEchoedClose = new Promise<void>((resolve) => {
      echoed = resolve;
    });
    const url = await upgradeServer((req, socket) => {
      // The client echoes the close frame once it has read everything before it; then the
      // connection ends, as a server ends it after the close handshake.
      socket.on('data', () => {
        echoed();
        socket.end();
      });
      socket.write(
        Buffer.concat([
          Buffer.from(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              `Sec-WebSocket-Accept: ${acceptFor(String(req.headers['sec-websocket-key']))}\r\n` +
              'Sec-WebSocket-Protocol: channel.k8s.io\r\n\r\n',
          ),
          Buffer.from([0x82, 0x03, 1, 0x68, 0x69]), // FIN binary "\x01hi", unmasked
          Buffer.from([0x88, 0x02, 0x03, 0xe8]), // close 1000
        ]),
      );
    });
    const connection = await openWebSocket(url, ['channel.k8s.io']);
    const events: string[] = [];
    connection.on('message', (m: Buffer) => events.push(`message ${m.toString('hex')}`));
    connection.on('close', (code: number) => events.push(`close ${code}`));
    await clientEchoedClose;
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    connection.start();
    expect(events).toEqual(['message 016869']);
    // ws reports the close once the connection has ended.
    await new Promise<void>((resolve) => connection.once('close', () => resolve()));
    expect(events).toEqual(['message 016869', 'close 1000']);
  });

  it('reports a refused upgrade with the status and body', async () => {
    const url = await upgradeServer((_req, socket) =>
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\nConnection: close\r\n\r\nforbidden here'),
    );
    const error = await openWebSocket(url, ['v4.channel.k8s.io']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamingError);
    expect((error as StreamingError).code).toBe('UPGRADE_REFUSED');
    expect((error as StreamingError).message).toBe(
      'streaming server refused the upgrade: HTTP/1.1 403 Forbidden forbidden here',
    );
  });

  it('rejects a wrong Sec-WebSocket-Accept as a bad handshake', async () => {
    const url = await upgradeServer((_req, socket) =>
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor('not the key')}\r\n\r\n`,
      ),
    );
    const error = await openWebSocket(url, []).catch((e: unknown) => e);
    expect((error as StreamingError).code).toBe('BAD_HANDSHAKE');
  });

  it('refuses URLs other than http and ws', async () => {
    const error = await openWebSocket('https://127.0.0.1:1/exec/x', []).catch((e: unknown) => e);
    expect((error as StreamingError).code).toBe('UNSUPPORTED_URL');
  });
});

describe('remote-command exit status', () => {
  it('maps Success to 0 and NonZeroExitCode to its code', () => {
    expect(exitFromStatus({ status: 'Success' }).exitCode).toBe(0);
    expect(
      exitFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '42' }] },
      }).exitCode,
    ).toBe(42);
  });

  it('turns other failures into a StreamingError carrying the message', () => {
    const e = (() => {
      try {
        exitFromStatus({ status: 'Failure', message: 'container not running' });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(StreamingError);
    expect((e as StreamingError).message).toBe('container not running');
  });
});
