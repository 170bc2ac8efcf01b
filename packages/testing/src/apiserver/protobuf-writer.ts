/**
 * A growable protobuf byte writer for the API server's responses. Hand-written rather than
 * protobufjs's Writer because it runs once per stored object version on the scale bench's path
 * (5,000 EndpointSlices of 50 endpoints) and must cost about what JSON.stringify does:
 * protobufjs's fork()/ldelim() build a linked list of pending writes per nested message, this one
 * writes bytes straight into one buffer and patches each nested message's length in place.
 */
export class ProtobufWriter {
  private buf: Buffer;
  /** Bytes written so far. */
  pos = 0;

  /** `size`: the buffer's first size (it grows as needed); an exact size makes detach() copy-free. */
  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Empties the writer, keeping its buffer for the next message. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written (the writer's buffer is reused). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  /** The bytes written, without a copy: the writer is done with (a one-off writer's result). */
  detach(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Raw bytes (a precomputed tag, a nested encoding). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A varint of a non-negative integer up to 2^53. */
  uvarint(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (n > 0x7fffffff) {
      buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n > 0x7f) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  /**
   * A signed integer as Go writes int32 and int64 fields: uint64(n), so a negative one is its
   * 64-bit two's complement, ten bytes (an int32 is sign-extended first, as Go's conversion does).
   */
  varint(n: number): void {
    if (n >= 0) {
      this.uvarint(n);
      return;
    }
    this.ensure(10);
    const hi = Math.floor(n / 4294967296);
    let lo = (n - hi * 4294967296) >>> 0;
    let high = hi >>> 0;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7) | ((high & 0x7f) << 25);
      high >>>= 7;
    }
    this.buf[this.pos++] = lo & 0x01;
  }

  /** A length-delimited UTF-8 string (its tag already written). */
  string(s: string): void {
    const n = s.length;
    const start = this.pos;
    if (n < 128) {
      // ASCII fast path: the length is the character count; bail out on the first non-ASCII.
      this.ensure(n + 1);
      const buf = this.buf;
      buf[this.pos++] = n;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[this.pos++] = c;
      }
      if (i === n) return;
      this.pos = start;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.uvarint(bytes);
    this.ensure(bytes);
    this.buf.write(s, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  /** Length-delimited bytes (its tag already written). */
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.raw(b);
  }

  /**
   * Starts a nested message (its tag already written): one byte is reserved for its length,
   * which endMessage fills in, moving the message right when the length needs more bytes.
   */
  beginMessage(): number {
    this.ensure(1);
    return this.pos++;
  }

  endMessage(lengthAt: number): void {
    const len = this.pos - lengthAt - 1;
    if (len < 128) {
      this.buf[lengthAt] = len;
      return;
    }
    let size = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(lengthAt + size, lengthAt + 1, this.pos);
    this.pos += size - 1;
    let v = len;
    let at = lengthAt;
    while (v > 0x7f) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }
}
