import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeFrame, Opcode } from '../streaming/websocket-frames';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SUPPORTED = ['v4.channel.k8s.io', 'channel.k8s.io'];

/** Server half of one streaming session, as the fake's Exec handler sees it. */
export interface FakeStreamSession {
  protocol: string;
  send(channel: number, data: Buffer | string): void;
  close(): void;
}

type SessionHandler = (session: FakeStreamSession) => void;

/**
 * The fake runtime's streaming server: plain HTTP on 127.0.0.1 that upgrades `/exec/<token>` to
 * the Kubernetes remote-command WebSocket protocol, like the runtime-side server containerd runs.
 */
export class FakeStreamingServer {
  private server: Server | undefined;
  private port = 0;
  private readonly sessions = new Map<string, SessionHandler>();
  private readonly sockets = new Set<Duplex>();

  async url(kind: 'exec' | 'attach' | 'portforward', handler: SessionHandler): Promise<string> {
    await this.ensureStarted();
    const token = randomBytes(6).toString('base64url');
    this.sessions.set(`/${kind}/${token}`, handler);
    return `http://127.0.0.1:${this.port}/${kind}/${token}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private async ensureStarted(): Promise<void> {
    if (this.server) return;
    const server = createServer((_req, res) => {
      res.writeHead(400).end('websocket upgrade required');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.upgrade(req, socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = this.sessions.get(path);
    const key = req.headers['sec-websocket-key'];
    if (!handler || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Tokens are single-use, as in the kubelet's streaming server.
    this.sessions.delete(path);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const protocol = offered.find((p) => SUPPORTED.includes(p)) ?? '';
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${accept}`,
        ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
        '',
        '',
      ].join('\r\n'),
    );
    handler({
      protocol,
      send: (channel, data) =>
        socket.write(
          encodeFrame(Opcode.Binary, Buffer.concat([Buffer.from([channel]), Buffer.from(data)]), false),
        ),
      close: () => {
        const body = Buffer.alloc(2);
        body.writeUInt16BE(1000, 0);
        socket.write(encodeFrame(Opcode.Close, body, false));
        socket.end();
      },
    });
  }
}
