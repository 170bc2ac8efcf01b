import { NLA_F_NESTED, NLA_TYPE_MASK } from './constants';

/** Netlink attributes are 4-byte aligned. */
export const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Builds a run of netlink attributes (struct nlattr: u16 length, u16 type, payload, pad to 4).
 * Integers are host (little-endian on every platform the addon ships for) unless the method
 * name says big-endian, as in the kernel's nla_put_u16 / nla_put_be16.
 */
export class AttributeWriter {
  private readonly parts: Buffer[] = [];
  private length = 0;

  raw(type: number, payload: Uint8Array): this {
    const len = 4 + payload.length;
    const buf = Buffer.alloc(align4(len));
    buf.writeUInt16LE(len, 0);
    buf.writeUInt16LE(type, 2);
    buf.set(payload, 4);
    this.parts.push(buf);
    this.length += buf.length;
    return this;
  }

  u8(type: number, value: number): this {
    return this.raw(type, Buffer.of(value & 0xff));
  }

  u16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value, 0);
    return this.raw(type, b);
  }

  be16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value, 0);
    return this.raw(type, b);
  }

  u32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0, 0);
    return this.raw(type, b);
  }

  be32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0, 0);
    return this.raw(type, b);
  }

  u64(type: number, value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value, 0);
    return this.raw(type, b);
  }

  /** NUL-terminated string, as NLA_NUL_STRING / NLA_STRING expect. */
  string(type: number, value: string): this {
    return this.raw(type, Buffer.from(`${value}\0`, 'utf8'));
  }

  nested(type: number, build: (w: AttributeWriter) => void): this {
    const inner = new AttributeWriter();
    build(inner);
    return this.raw(type | NLA_F_NESTED, inner.toBuffer());
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
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
