import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The server end of a WebSocket (the `ws` library underneath): binary or text messages out,
 * whole messages in, pings answered, a close answered and reported once.
 */
export class ServerWebSocket extends EventEmitter<{ message: [Buffer]; close: [] }> {
  private closed = false;

  /** `ws` undefined: the upgrade was refused (ws answered 400); `close` follows on the next tick. */
  constructor(private readonly ws: WebSocket | undefined) {
    super();
    if (!ws) {
      setImmediate(() => this.finish());
      return;
    }
    ws.on('message', (data: Buffer) => this.emit('message', data));
    ws.on('close', () => this.finish());
    // A peer that vanishes mid-frame is a close like any other for the streaming protocols.
    ws.on('error', () => this.finish());
  }

  /** One message: binary, or text (base64 subprotocols). */
  send(payload: Buffer, text = false): void {
    if (!this.closed && this.ws && this.ws.readyState === this.ws.OPEN)
      this.ws.send(payload, { binary: !text });
  }

  close(code = 1000): void {
    if (this.closed) return;
    this.ws?.close(code);
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/**
 * Answers a WebSocket upgrade with 101 and the chosen subprotocol (none when empty). `head` holds the bytes that arrived with the upgrade request: the client
 * may already have sent frames. Listeners attached right after the call see every message.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  protocol: string,
  head: Buffer = Buffer.alloc(0),
): ServerWebSocket {
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // The caller has chosen the subprotocol; ws would refuse kubectl's port-forward tunnel offer
  // (`SPDY/3.1+portforward.k8s.io` is not an RFC 7230 token), so it never sees the offer and the
  // answer header is added here.
  const offered = req.headers['sec-websocket-protocol'];
  delete req.headers['sec-websocket-protocol'];
  if (protocol) server.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
  let accepted: ServerWebSocket | undefined;
  // ws completes an upgrade without a verifyClient hook synchronously, so the callback has run
  // when handleUpgrade returns (a malformed request is answered 400 and closed instead).
  try {
    server.handleUpgrade(req, socket, head, (ws) => {
      accepted = new ServerWebSocket(ws);
    });
  } finally {
    if (offered !== undefined) req.headers['sec-websocket-protocol'] = offered;
  }
  return accepted ?? new ServerWebSocket(undefined);
}
