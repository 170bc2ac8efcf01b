import { NLA_F_NESTED, NLA_TYPE_MASK } from './constants';

/** Netlink attributes are 4-byte aligned. */
export const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Builds a run of netlink attributes (struct nlattr: u16 length, u16 type, payload, pad to 4).
 * Integers are host (little-endian on every platform the addon ships for) unless the method
 * name says big-endian, as in the kernel's nla_put_u16 / nla_put_be16. Writes go into one
 * growing buffer: encoding is on the hot path of bulk updates.
 */
export class AttributeWriter {
  // allocUnsafe draws from Node's pool (a fresh zeroed ArrayBuffer per request is measurably
  // slower); every byte handed out is written or explicitly zeroed.
  private buf = Buffer.allocUnsafe(256);
  private len: number;

  /** `prefix` bytes (zeroed) are reserved in front of the attributes, e.g. for a genl header. */
  constructor(prefix = 0) {
    this.reserve(prefix);
    this.buf.fill(0, 0, prefix);
    this.len = prefix;
  }

  private reserve(bytes: number): void {
    if ((this.len ?? 0) + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + bytes));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Starts an attribute with `payloadLen` bytes of payload; returns the payload offset. */
  private header(type: number, payloadLen: number): number {
    const total = 4 + payloadLen;
    this.reserve(align4(total));
    this.buf.writeUInt16LE(total, this.len);
    this.buf.writeUInt16LE(type, this.len + 2);
    const at = this.len + 4;
    // A loop, not Buffer#fill: for a few bytes its argument checks cost more than the work.
    const buf = this.buf;
    for (let i = at, end = this.len + align4(total); i < end; i++) buf[i] = 0;
    this.len += align4(total);
    return at;
  }

  /** An attribute with these bytes, padded to 4. */
  raw(type: number, payload: Uint8Array): this {
    const at = this.header(type, payload.length);
    this.buf.set(payload, at);
    return this;
  }

  /** Payload of `size` bytes filled in place by `fill` (which gets the buffer and the offset). */
  inPlace(type: number, size: number, fill: (buf: Buffer, at: number) => void): this {
    const at = this.header(type, size);
    fill(this.buf, at);
    return this;
  }

  /** An 8-bit attribute. */
  u8(type: number, value: number): this {
    const at = this.header(type, 1);
    this.buf.writeUInt8(value & 0xff, at);
    return this;
  }

  /** A 16-bit attribute in host byte order. */
  u16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16LE(value, at);
    return this;
  }

  /** A 16-bit attribute in network byte order (ports). */
  be16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16BE(value, at);
    return this;
  }

  /** A 32-bit attribute in host byte order. */
  u32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32LE(value >>> 0, at);
    return this;
  }

  /** A 32-bit attribute in network byte order. */
  be32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32BE(value >>> 0, at);
    return this;
  }

  /** A 64-bit attribute in host byte order. */
  u64(type: number, value: bigint): this {
    const at = this.header(type, 8);
    this.buf.writeBigUInt64LE(value, at);
    return this;
  }

  /** NUL-terminated string, as NLA_NUL_STRING / NLA_STRING expect. */
  string(type: number, value: string): this {
    const n = Buffer.byteLength(value, 'utf8');
    const at = this.header(type, n + 1);
    this.buf.write(value, at, 'utf8');
    return this;
  }

  /** A nested attribute whose children `build` writes. */
  nested(type: number, build: (w: AttributeWriter) => void): this {
    const start = this.len;
    this.reserve(4);
    this.len += 4;
    build(this);
    this.buf.writeUInt16LE(this.len - start, start);
    this.buf.writeUInt16LE(type | NLA_F_NESTED, start + 2);
    return this;
  }

  /** Bytes written so far, prefix included. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  /** Writes into the reserved prefix (e.g. the genl header). */
  prefix(fill: (buf: Buffer) => void): this {
    fill(this.buf);
    return this;
  }
}

/** Thrown when bytes from the kernel (or a test) do not parse as netlink attributes. */
export class MalformedAttributeError extends Error {
  readonly code = 'IPVS_MALFORMED_ATTRIBUTE';
  constructor(
    readonly field: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`${field} at offset ${offset}: ${reason}`);
    this.name = 'MalformedAttributeError';
  }
}

/**
 * Splits a run of attributes into type → payload (the last one wins for a repeated type, as the
 * kernel's nla_parse does). Flag bits are stripped from the type.
 */
export function parseAttributes(buf: Buffer, field = 'attributes'): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length) {
      throw new MalformedAttributeError(
        field,
        off,
        `attribute length ${len} overruns ${buf.length - off} bytes`,
      );
    }
    out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

/**
 * Like parseAttributes but into an array indexed by type (types above `maxType` are ignored):
 * cheaper than a Map on the hot path of decoding large dumps.
 */
export function parseAttributeTable(
  buf: Buffer,
  maxType: number,
  field = 'attributes',
): (Buffer | undefined)[] {
  const out: (Buffer | undefined)[] = new Array(maxType + 1);
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length) {
      throw new MalformedAttributeError(
        field,
        off,
        `attribute length ${len} overruns ${buf.length - off} bytes`,
      );
    }
    if (type <= maxType) out[type] = buf.subarray(off + 4, off + len);
    off += align4(len);
  }
  return out;
}

function need(b: Buffer | undefined, size: number, field: string): Buffer | undefined {
  if (b === undefined) return undefined;
  if (b.length < size) throw new MalformedAttributeError(field, 0, `expected ${size} bytes, got ${b.length}`);
  return b;
}

export const readU8 = (b: Buffer | undefined, field: string) => need(b, 1, field)?.readUInt8(0);
export const readU16 = (b: Buffer | undefined, field: string) => need(b, 2, field)?.readUInt16LE(0);
export const readBe16 = (b: Buffer | undefined, field: string) => need(b, 2, field)?.readUInt16BE(0);
export const readU32 = (b: Buffer | undefined, field: string) => need(b, 4, field)?.readUInt32LE(0);
export const readBe32 = (b: Buffer | undefined, field: string) => need(b, 4, field)?.readUInt32BE(0);
export const readU64 = (b: Buffer | undefined, field: string) => need(b, 8, field)?.readBigUInt64LE(0);

export function readString(b: Buffer | undefined): string | undefined {
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}
