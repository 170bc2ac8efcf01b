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

const ZERO_PADDING = Buffer.alloc(4);

/**
 * Builds a run of attributes. Each call appends one attribute; `nested` appends one whose
 * payload is built by the callback. `toBuffer()` returns the run (already padded).
 */
export class AttributeWriter {
  private readonly chunks: Buffer[] = [];
  private byteLength = 0;

  get length(): number {
    return this.byteLength;
  }

  /** Append an attribute whose payload is `payload` (padding is added here). */
  bytes(type: number, payload: Buffer): this {
    const total = NLA_HEADER_LENGTH + payload.length;
    if (total > NLA_LENGTH_MAX)
      throw new InvalidFieldError(
        `netlink attribute ${type & NLA_TYPE_MASK}`,
        payload.length,
        `bytes do not fit a netlink attribute (at most ${NLA_LENGTH_MAX - NLA_HEADER_LENGTH})`,
      );
    const header = Buffer.allocUnsafe(NLA_HEADER_LENGTH);
    header.writeUInt16LE(total, 0);
    header.writeUInt16LE(type, 2);
    this.push(header);
    this.push(payload);
    const pad = nlaAlign(total) - total;
    if (pad > 0) this.push(ZERO_PADDING.subarray(0, pad));
    return this;
  }

  /** Attribute without payload (a flag). */
  flag(type: number): this {
    return this.bytes(type, Buffer.alloc(0));
  }

  u8(type: number, value: number): this {
    const b = Buffer.allocUnsafe(1);
    b.writeUInt8(value, 0);
    return this.bytes(type, b);
  }

  /** Big-endian u16 (nf_tables' network-order integers). */
  u16(type: number, value: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(value, 0);
    return this.bytes(type, b);
  }

  /** Big-endian u32 (nf_tables' network-order integers). */
  u32(type: number, value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(value >>> 0, 0);
    return this.bytes(type, b);
  }

  /** Big-endian u64 (handles, timeouts in ms, counters). */
  u64(type: number, value: bigint | number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(value), 0);
    return this.bytes(type, b);
  }

  /** NUL-terminated string (NLA_STRING / NLA_NUL_STRING). */
  string(type: number, value: string): this {
    const text = Buffer.from(value, 'utf8');
    const b = Buffer.allocUnsafe(text.length + 1);
    text.copy(b, 0);
    b[text.length] = 0;
    return this.bytes(type, b);
  }

  /** Nested attribute: NLA_F_NESTED is set on the type, the callback writes the payload. */
  nested(type: number, build: (inner: AttributeWriter) => void): this {
    const inner = new AttributeWriter();
    build(inner);
    return this.bytes(type | NLA_F_NESTED, inner.toBuffer());
  }

  /** Nested attribute whose (already encoded, aligned) payload is given. */
  nestedBytes(type: number, payload: Buffer): this {
    return this.bytes(type | NLA_F_NESTED, payload);
  }

  /** Append already-encoded attributes verbatim (must be 4-byte aligned). */
  raw(encoded: Buffer): this {
    if (encoded.length % 4 !== 0)
      throw new InvalidFieldError('netlink attributes', encoded.length, 'is not 4-byte aligned');
    this.push(encoded);
    return this;
  }

  toBuffer(): Buffer {
    return this.chunks.length === 1
      ? (this.chunks[0] as Buffer)
      : Buffer.concat(this.chunks, this.byteLength);
  }

  private push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.byteLength += chunk.length;
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
