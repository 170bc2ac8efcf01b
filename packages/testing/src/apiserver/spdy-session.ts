import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { constants, createDeflate, type Deflate } from 'node:zlib';

/** SPDY/3.1 control frame types used by the Kubernetes streaming protocols. */
const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;
const flagFin = 0x01;
const spdyVersion = 3;

/** One client-initiated stream: bytes from the server, and a write side that can be half-closed. */
export class SpdyStream extends EventEmitter<{ data: [Buffer]; end: [] }> {
  private ended = false;
  private writeClosed = false;

  constructor(
    readonly id: number,
    private readonly session: SpdyClientSession,
  ) {
    super();
  }

  write(data: Buffer): void {
    if (!this.writeClosed && data.length > 0) this.session.writeData(this.id, data, false);
  }

  /** Half-closes our side (DATA with FLAG_FIN): the server sees end of input. */
  end(): void {
    if (this.writeClosed) return;
    this.writeClosed = true;
    this.session.writeData(this.id, Buffer.alloc(0), true);
  }

  /** @internal */
  receive(data: Buffer, fin: boolean): void {
    if (data.length > 0) this.emit('data', data);
    if (fin) this.finish();
  }

  /** @internal */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }
}

/**
 * The client side of a SPDY/3.1 connection, as far as the Kubernetes streaming protocols need
 * it (what client-go's spdy round tripper and moby/spdystream do): streams opened with
 * SYN_STREAM carrying a zlib-compressed header block, DATA both ways, FIN half-closes, PINGs
 * answered. Header blocks from the server are not decoded — nothing here needs them.
 */
export class SpdyClientSession extends EventEmitter<{ close: [] }> {
  private nextId = 1;
  private buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream>();
  /** One deflate context for every header block we send, flushed per block (SPDY/3 §2.6.10.1). */
  private readonly deflate: Deflate = createDeflate();
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
  }

  /** Feeds bytes that arrived together with the 101 response. */
  feed(bytes: Buffer): void {
    if (bytes.length > 0) this.onData(bytes);
  }

  /** Opens a stream with the given headers (names lower-cased on the wire, as SPDY requires). */
  openStream(headers: Record<string, string>): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(id, this);
    this.streams.set(id, stream);
    const block = headerBlock(headers);
    // Frames must leave in order, and compression is asynchronous: chain them.
    this.pending = this.pending.then(async () => {
      const compressed = await this.compress(block);
      const body = Buffer.alloc(10);
      body.writeUInt32BE(id & 0x7fffffff, 0);
      body.writeUInt32BE(0, 4); // associated-to-stream-id
      body[8] = 0; // priority 0, unused bits
      body[9] = 0; // slot
      this.writeRaw(controlFrame(FrameType.synStream, 0, Buffer.concat([body, compressed])));
    });
    return stream;
  }

  /** @internal */
  writeData(id: number, data: Buffer, fin: boolean): void {
    this.pending = this.pending.then(() => {
      const header = Buffer.alloc(8);
      header.writeUInt32BE(id & 0x7fffffff, 0);
      header.writeUInt32BE(((fin ? flagFin : 0) << 24) | data.length, 4);
      this.writeRaw(Buffer.concat([header, data]));
    });
  }

  close(): void {
    this.socket.end();
    this.finish();
  }

  private writeRaw(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  private compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      this.deflate.on('data', onData);
      this.deflate.write(block);
      this.deflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.deflate.off('data', onData);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.finish();
    this.deflate.close();
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) return;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const flags = frame[4] as number;
    const body = frame.subarray(8);
    if (((frame[0] as number) & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      this.streams.get(id)?.receive(Buffer.from(body), (flags & flagFin) !== 0);
      return;
    }
    const type = frame.readUInt16BE(2);
    const streamId = body.length >= 4 ? body.readUInt32BE(0) & 0x7fffffff : 0;
    switch (type) {
      case FrameType.synReply:
      case FrameType.headers:
        if (flags & flagFin) this.streams.get(streamId)?.finish();
        return;
      case FrameType.rstStream:
        this.streams.get(streamId)?.finish();
        return;
      case FrameType.ping:
        // Server-initiated pings have even ids; answer them with the same id.
        this.writeRaw(controlFrame(FrameType.ping, 0, Buffer.from(body)));
        return;
      case FrameType.goAway:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, server-initiated streams: not needed here.
        return;
    }
  }
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(0x8000 | spdyVersion, 0);
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE((flags << 24) | body.length, 4);
  return Buffer.concat([header, body]);
}

/** The uncompressed SPDY/3 name/value block: count, then length-prefixed names and values. */
function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length, 0);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}
