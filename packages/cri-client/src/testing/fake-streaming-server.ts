import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';

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
  /** The WebSocket half (ws, without a server of its own): the first offered protocol it speaks. */
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => [...offered].find((p) => SUPPORTED.includes(p)) ?? false,
  });

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
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = this.sessions.get(path);
    if (!handler) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Tokens are single-use, as in the kubelet's streaming server.
    this.sessions.delete(path);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      handler({
        protocol: ws.protocol,
        send: (channel, data) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)])),
        close: () => ws.close(1000),
      });
    });
  }
}
