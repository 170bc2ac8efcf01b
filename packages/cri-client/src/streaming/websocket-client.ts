import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

// ws is evaluated when the first stream opens (exec, attach, port-forward): about 40-60 ms of the
// kubelet executable's start-up otherwise, for a feature most nodes use rarely.
let wsModule: Promise<typeof WebSocket> | undefined;
function loadWs(): Promise<typeof WebSocket> {
  wsModule ??= import('ws').then(
    (m) => (m as { default?: typeof WebSocket }).default ?? (m as unknown as typeof WebSocket),
  );
  return wsModule;
}

/** Opens the byte stream a WebSocket runs over. Default: TCP to host:port. */
export type StreamConnector = (host: string, port: number) => Duplex;

/** A streaming connection failed: the handshake, the protocol or the socket. */
export class StreamingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StreamingError';
    this.code = code;
  }
}

/** Connects over TCP in this process's network namespace (the default connector). */
export const tcpConnector: StreamConnector = (host, port) => netConnect({ host, port });

type Queued =
  | { event: 'message'; data: Buffer }
  | { event: 'close'; code: number }
  | { event: 'error'; error: Error };

/**
 * A WebSocket client connection (the `ws` library underneath): events `message` (Buffer, whole
 * message), `close` (code), `error`, delivered once `start()` is called. Until then what arrives
 * is queued, so callers attach their listeners first: a fast server's frames may come in with the
 * handshake itself.
 */
export class WebSocketConnection extends EventEmitter {
  private closed = false;
  private started = false;
  private queued: Queued[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly protocol: string,
  ) {
    super();
    ws.on('message', (data: Buffer) => this.deliver({ event: 'message', data }));
    ws.on('close', (code: number) => this.deliver({ event: 'close', code }));
    ws.on('error', (error: Error) => this.deliver({ event: 'error', error }));
  }

  /** Begin delivering events, the queued ones first. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const item of this.queued.splice(0)) this.emitNow(item);
  }

  send(payload: Buffer): void {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(payload, { binary: true });
  }

  /** Sends a close frame and reports `close` with `code` at once (the server's echo is not awaited). */
  close(code = 1000): void {
    if (this.closed) return;
    this.ws.close(code);
    this.deliver({ event: 'close', code });
  }

  private deliver(item: Queued): void {
    if (this.started) this.emitNow(item);
    else this.queued.push(item);
  }

  private emitNow(item: Queued): void {
    if (item.event === 'message') this.emit('message', item.data);
    else if (item.event === 'error') this.emit('error', item.error);
    else if (!this.closed) {
      this.closed = true;
      this.emit('close', item.code);
    }
  }
}

/** The first `limit` bytes of a refused upgrade's body, for the error message. */
function readBody(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit)));
    response.on('error', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit)));
  });
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
  u.protocol = 'ws:';
  const port = Number(u.port || 80);
  return loadWs().then((WebSocketClass) => connectWebSocket(WebSocketClass, u, port, protocols, connector));
}

function connectWebSocket(
  WebSocketClass: typeof WebSocket,
  u: URL,
  port: number,
  protocols: string[],
  connector: StreamConnector,
): Promise<WebSocketConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClass(u.toString(), protocols, {
      // The connector decides how host:port is reached (TCP, or a pipe into a network namespace).
      createConnection: () => connector(u.hostname, port) as ReturnType<typeof netConnect>,
      // The kubelet's and runtimes' streaming endpoints do not negotiate compression.
      perMessageDeflate: false,
    });
    const fail = (error: StreamingError) => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      // Whatever the transport reports while being torn down is not news any more.
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    const onError = (error: Error) =>
      fail(
        /Sec-WebSocket|Invalid Upgrade|Connection header/i.test(error.message)
          ? new StreamingError('BAD_HANDSHAKE', `streaming server sent a bad handshake: ${error.message}`)
          : new StreamingError('TRANSPORT', error.message),
      );
    const onRefused = (_request: unknown, response: IncomingMessage) => {
      ws.off('error', onError);
      ws.on('error', () => undefined);
      void readBody(response, 200).then((body) =>
        fail(
          new StreamingError(
            'UPGRADE_REFUSED',
            `streaming server refused the upgrade: HTTP/${response.httpVersion} ${response.statusCode} ${response.statusMessage ?? ''} ${body}`,
          ),
        ),
      );
    };
    // 'open' comes before ws reads any frame, so the connection's listeners miss nothing.
    const onOpen = () => {
      ws.off('error', onError);
      ws.off('unexpected-response', onRefused);
      resolve(new WebSocketConnection(ws, ws.protocol));
    };
    ws.once('open', onOpen);
    ws.once('error', onError);
    ws.once('unexpected-response', onRefused);
  });
}
