import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameParser, Opcode } from './websocket-frames';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Opens the byte stream a WebSocket runs over. Default: TCP to host:port. */
export type StreamConnector = (host: string, port: number) => Duplex;

export class StreamingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StreamingError';
    this.code = code;
  }
}

export const tcpConnector: StreamConnector = (host, port) => netConnect({ host, port });

/**
 * A minimal WebSocket client connection: events `message` (Buffer, whole message), `close`
 * (code), `error`, delivered once `start()` is called. Enough for the Kubernetes streaming protocols; not a general-purpose client.
 */
export class WebSocketConnection extends EventEmitter {
  private closed = false;
  private readonly parser = new FrameParser();
  private fragments: Buffer[] = [];

  private started = false;

  constructor(
    private readonly socket: Duplex,
    readonly protocol: string,
    private readonly head: Buffer,
  ) {
    super();
  }

  /**
   * Begin delivering events. Separate from construction so callers attach their listeners first:
   * a fast server's frames may already sit in the handshake's leftover bytes.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finish(1006));
    socket.on('close', () => this.finish(1006));
    socket.on('error', (e: Error) => this.emit('error', e));
    if (this.head.length > 0) this.onData(this.head);
    socket.resume();
  }

  send(payload: Buffer): void {
    if (!this.closed) this.socket.write(encodeFrame(Opcode.Binary, payload, true));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.socket.write(encodeFrame(Opcode.Close, body, true));
    this.socket.end();
    this.finish(code);
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.parser.push(chunk)) {
      switch (frame.opcode) {
        case Opcode.Ping:
          this.socket.write(encodeFrame(Opcode.Pong, frame.payload, true));
          break;
        case Opcode.Close: {
          const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          if (!this.closed) this.socket.write(encodeFrame(Opcode.Close, frame.payload.subarray(0, 2), true));
          this.socket.end();
          this.finish(code);
          break;
        }
        case Opcode.Text:
        case Opcode.Binary:
        case Opcode.Continuation:
          this.fragments.push(frame.payload);
          if (frame.fin) {
            const message = Buffer.concat(this.fragments);
            this.fragments = [];
            this.emit('message', message);
          }
          break;
        default:
          break;
      }
    }
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code);
  }
}

/**
 * HTTP/1.1 upgrade to WebSocket over `connector(host, port)`, offering `protocols`
 * (Sec-WebSocket-Protocol). Resolves once the server accepted with 101.
 */
export function openWebSocket(
  url: string,
  protocols: string[],
  connector: StreamConnector = tcpConnector,
): Promise<WebSocketConnection> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'ws:') {
    return Promise.reject(
      new StreamingError('UNSUPPORTED_URL', `unsupported streaming URL ${url} (only http/ws)`),
    );
  }
  const port = Number(u.port || 80);
  const key = randomBytes(16).toString('base64');
  const expectAccept = createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
  const socket = connector(u.hostname, port);
  return new Promise((resolve, reject) => {
    let response = Buffer.alloc(0);
    const fail = (e: Error) => {
      // Whatever the transport reports while being torn down is not news any more.
      socket.on('error', () => undefined);
      socket.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      response = Buffer.concat([response, chunk]);
      const end = response.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', fail);
      const head = response.subarray(end + 4);
      const [statusLine = '', ...headerLines] = response.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(
        headerLines.map((l) => {
          const i = l.indexOf(':');
          return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const;
        }),
      );
      if (!/^HTTP\/1\.1 101/.test(statusLine)) {
        return fail(
          new StreamingError(
            'UPGRADE_REFUSED',
            `streaming server refused the upgrade: ${statusLine} ${head.toString('utf8').slice(0, 200)}`,
          ),
        );
      }
      if (headers.get('sec-websocket-accept') !== expectAccept) {
        return fail(
          new StreamingError('BAD_HANDSHAKE', 'streaming server sent a wrong Sec-WebSocket-Accept'),
        );
      }
      socket.pause();
      resolve(new WebSocketConnection(socket, headers.get('sec-websocket-protocol') ?? '', head));
    };
    socket.on('data', onData);
    socket.on('error', fail);
    const path = `${u.pathname}${u.search}`;
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        `Host: ${u.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Protocol: ${protocols.join(', ')}`,
        '',
        '',
      ].join('\r\n'),
    );
  });
}
