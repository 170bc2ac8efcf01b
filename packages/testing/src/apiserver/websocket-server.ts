import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const acceptGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 opcodes. */
const Op = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const header = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (len < 126) header[1] = len;
  else if (len < 65536) {
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  // Servers never mask.
  return Buffer.concat([header, payload]);
}

/**
 * The server end of a WebSocket: binary messages in and out, pings answered, a close
 * answered and reported once. Just enough for the streaming protocols.
 */
export class ServerWebSocket extends EventEmitter<{ message: [Buffer]; close: [] }> {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
  }

  /** One message: binary, or text (base64 subprotocols). */
  send(payload: Buffer, text = false): void {
    if (!this.closed) this.socket.write(frame(text ? Op.text : Op.binary, payload));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.socket.end(frame(Op.close, body));
    this.finish();
  }

  /** Bytes that arrived with the upgrade request (the client may already have sent frames). */
  feed(head: Buffer): void {
    if (head.length > 0) this.onData(head);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = ((b[0] as number) & 0x80) !== 0;
      const opcode = (b[0] as number) & 0x0f;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const key = masked ? b.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (key)
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
      this.buffer = b.subarray(offset + len);
      this.onFrame(fin, opcode, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === Op.ping) {
      if (!this.closed) this.socket.write(frame(Op.pong, payload));
      return;
    }
    if (opcode === Op.pong) return;
    if (opcode === Op.close) {
      this.close(payload.length >= 2 ? payload.readUInt16BE(0) : 1000);
      return;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.fragments);
    this.fragments = [];
    this.emit('message', message);
  }
}

/** Answers a WebSocket upgrade with 101 and the chosen subprotocol (none when empty). */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, protocol: string): ServerWebSocket {
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key'] ?? ''}${acceptGuid}`)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      '\r\n',
  );
  return new ServerWebSocket(socket);
}
