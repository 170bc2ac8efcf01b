// Netlink attributes (struct nlattr) as nf_tables uses them: a 4-byte header (u16 length that
// includes the header, u16 type), the payload, then padding to a 4-byte boundary. nf_tables
// writes its integers big-endian (network order) and its strings NUL-terminated; nested
// attributes carry NLA_F_NESTED in the type.

import { InvalidFieldError } from '../../errors';

export const NLA_HEADER_LENGTH = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
/** nla_len is a u16: no attribute (header included) can be longer. */
export const NLA_LENGTH_MAX = 0xffff;

/** Round up to the 4-byte netlink alignment. */
export function nlaAlign(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Builds a run of attributes into one growing buffer. Each call appends one attribute; `nested`
 * reserves the header, lets the callback append the payload to the same buffer (the callback's
 * writer is this one), then writes the length: no intermediate buffers, which matters for
 * batches of tens of thousands of messages. `toBuffer()` returns the run (already padded).
 */
export class AttributeWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(initialBytes = 128) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.position;
  }

  private reserve(bytes: number): void {
    const needed = this.position + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  private checkLength(type: number, payloadLength: number): void {
    if (NLA_HEADER_LENGTH + payloadLength > NLA_LENGTH_MAX)
      throw new InvalidFieldError(
        `netlink attribute ${type & NLA_TYPE_MASK}`,
        payloadLength,
        `bytes do not fit a netlink attribute (at most ${NLA_LENGTH_MAX - NLA_HEADER_LENGTH})`,
      );
  }

  /** Reserve and write the header of an attribute; returns where its payload goes. */
  private begin(type: number, payloadLength: number): number {
    this.checkLength(type, payloadLength);
    const total = NLA_HEADER_LENGTH + payloadLength;
    const aligned = (total + 3) & ~3;
    this.reserve(aligned);
    const at = this.position;
    const b = this.buffer;
    b[at] = total & 0xff;
    b[at + 1] = total >>> 8;
    b[at + 2] = type & 0xff;
    b[at + 3] = type >>> 8;
    // Zero the padding now; the payload is written over the rest.
    for (let i = at + total; i < at + aligned; i++) b[i] = 0;
    this.position = at + aligned;
    return at + NLA_HEADER_LENGTH;
  }

  /** Append an attribute whose payload is `payload` (padding is added here). */
  bytes(type: number, payload: Buffer): this {
    const at = this.begin(type, payload.length);
    payload.copy(this.buffer, at);
    return this;
  }

  /**
   * Append an attribute of `payloadLength` bytes that `fill` writes in place at `at` (no
   * intermediate buffer: the element encoder writes keys straight into the batch).
   */
  fill(type: number, payloadLength: number, fill: (out: Buffer, at: number) => void): this {
    const at = this.begin(type, payloadLength);
    fill(this.buffer, at);
    return this;
  }

  /** Forget everything appended after `position` (a `length` read earlier). */
  truncate(position: number): void {
    if (position < 0 || position > this.position)
      throw new InvalidFieldError(
        'netlink attribute position',
        position,
        `is not within 0..${this.position}`,
      );
    this.position = position;
  }

  /** Attribute without payload (a flag). */
  flag(type: number): this {
    this.begin(type, 0);
    return this;
  }

  u8(type: number, value: number): this {
    // begin() first: it may replace the buffer.
    const at = this.begin(type, 1);
    this.buffer.writeUInt8(value, at);
    return this;
  }

  /** Big-endian u16 (nf_tables' network-order integers). */
  u16(type: number, value: number): this {
    // begin() first: it may replace the buffer.
    const at = this.begin(type, 2);
    this.buffer.writeUInt16BE(value, at);
    return this;
  }

  /** Big-endian u32 (nf_tables' network-order integers). */
  u32(type: number, value: number): this {
    // begin() first: it may replace the buffer.
    const at = this.begin(type, 4);
    this.buffer.writeUInt32BE(value >>> 0, at);
    return this;
  }

  /** Big-endian u64 (handles, timeouts in ms, counters). */
  u64(type: number, value: bigint | number): this {
    // begin() first: it may replace the buffer.
    const at = this.begin(type, 8);
    this.buffer.writeBigUInt64BE(BigInt(value), at);
    return this;
  }

  /** NUL-terminated string (NLA_STRING / NLA_NUL_STRING). */
  string(type: number, value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    const at = this.begin(type, length + 1);
    this.buffer.write(value, at, length, 'utf8');
    this.buffer[at + length] = 0;
    return this;
  }

  /**
   * Nested attribute: NLA_F_NESTED is set on the type, the callback appends the payload. The
   * writer it gets is this one, so its `length` counts from the start of the whole run.
   */
  nested(type: number, build: (inner: AttributeWriter) => void): this {
    this.reserve(NLA_HEADER_LENGTH);
    const at = this.position;
    this.position += NLA_HEADER_LENGTH;
    build(this);
    const total = this.position - at;
    this.checkLength(type, total - NLA_HEADER_LENGTH);
    this.buffer.writeUInt16LE(total, at);
    this.buffer.writeUInt16LE(type | NLA_F_NESTED, at + 2);
    return this;
  }

  /**
   * Start a nested attribute by hand (`nested` without a callback, for hot loops): returns where
   * its header is, for `close`.
   */
  open(type: number): number {
    this.reserve(NLA_HEADER_LENGTH);
    const at = this.position;
    this.buffer[at + 2] = type & 0xff;
    this.position += NLA_HEADER_LENGTH;
    return at;
  }

  /** End the nested attribute `open(type)` started at `at`: its length and type are written now. */
  close(at: number, type: number): this {
    const total = this.position - at;
    this.checkLength(type, total - NLA_HEADER_LENGTH);
    this.buffer.writeUInt16LE(total, at);
    this.buffer.writeUInt16LE(type | NLA_F_NESTED, at + 2);
    return this;
  }

  /**
   * Append an attribute of `payloadLength` bytes and return where its payload goes in
   * `bytesView`, for the caller to write in place (padding already zeroed).
   */
  reserveAttribute(type: number, payloadLength: number): number {
    return this.begin(type, payloadLength);
  }

  /** The buffer being written (valid until the next append, which may replace it). */
  get bytesView(): Buffer {
    return this.buffer;
  }

  /** Nested attribute whose (already encoded, aligned) payload is given. */
  nestedBytes(type: number, payload: Buffer): this {
    return this.bytes(type | NLA_F_NESTED, payload);
  }

  /** Append already-encoded attributes verbatim (must be 4-byte aligned). */
  raw(encoded: Buffer): this {
    if (encoded.length % 4 !== 0)
      throw new InvalidFieldError('netlink attributes', encoded.length, 'is not 4-byte aligned');
    this.reserve(encoded.length);
    encoded.copy(this.buffer, this.position);
    this.position += encoded.length;
    return this;
  }

  /** The run so far (a view: later appends never change these bytes). */
  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.position);
  }
}

/** One attribute read back. `payload` is a view into the message (no copy). */
export interface NetlinkAttribute {
  /** Type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits. */
  type: number;
  nested: boolean;
  payload: Buffer;
}

/** Read a run of attributes; a truncated or overlong header is a typed error. */
export function readAttributes(buffer: Buffer): NetlinkAttribute[] {
  const attributes: NetlinkAttribute[] = [];
  let offset = 0;
  while (offset + NLA_HEADER_LENGTH <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    const rawType = buffer.readUInt16LE(offset + 2);
    if (length < NLA_HEADER_LENGTH || offset + length > buffer.length)
      throw new InvalidFieldError(
        `netlink attribute at offset ${offset}`,
        length,
        `is not a valid length (${buffer.length - offset} bytes left)`,
      );
    attributes.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      payload: buffer.subarray(offset + NLA_HEADER_LENGTH, offset + length),
    });
    offset += nlaAlign(length);
  }
  return attributes;
}

/** Attributes by type (the last one wins, as the kernel's nla_parse does). */
export function attributesByType(buffer: Buffer): Map<number, NetlinkAttribute> {
  const map = new Map<number, NetlinkAttribute>();
  for (const attribute of readAttributes(buffer)) map.set(attribute.type, attribute);
  return map;
}

function needLength(attribute: NetlinkAttribute, length: number, what: string): void {
  if (attribute.payload.length < length)
    throw new InvalidFieldError(
      `netlink attribute ${attribute.type}`,
      attribute.payload.length,
      `bytes is too short for a ${what}`,
    );
}

export function attributeU8(attribute: NetlinkAttribute): number {
  needLength(attribute, 1, 'u8');
  return attribute.payload.readUInt8(0);
}

export function attributeU16(attribute: NetlinkAttribute): number {
  needLength(attribute, 2, 'u16');
  return attribute.payload.readUInt16BE(0);
}

export function attributeU32(attribute: NetlinkAttribute): number {
  needLength(attribute, 4, 'u32');
  return attribute.payload.readUInt32BE(0);
}

export function attributeU64(attribute: NetlinkAttribute): bigint {
  needLength(attribute, 8, 'u64');
  return attribute.payload.readBigUInt64BE(0);
}

/** String up to the first NUL (or the end of the payload). */
export function attributeString(attribute: NetlinkAttribute): string {
  const end = attribute.payload.indexOf(0);
  return attribute.payload.toString('utf8', 0, end === -1 ? attribute.payload.length : end);
}
