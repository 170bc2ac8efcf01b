// nft keeps what the kernel does not need (comments, how to print a set's keys) in the objects'
// USERDATA attributes, as libnftnl "udata" TLVs: u8 type, u8 length, value. Integers are in
// host byte order; strings are NUL-terminated.

import { InvalidFieldError } from '../../errors';

/** Comment TLV type of tables, chains, rules and set elements. */
export const UDATA_COMMENT = 0;

/** Set/map udata types (libnftnl's NFTNL_UDATA_SET_*). */
export const SetUdata = {
  KEYBYTEORDER: 0,
  DATABYTEORDER: 1,
  MERGE_ELEMENTS: 2,
  KEY_TYPEOF: 3,
  DATA_TYPEOF: 4,
  EXPR: 5,
  DATA_INTERVAL: 6,
  COMMENT: 7,
} as const;

/** nft's `enum byteorder` as stored in KEYBYTEORDER/DATABYTEORDER. */
export const ByteOrder = { INVALID: 0, HOST: 1, BIG: 2 } as const;

/** nft's comment limit (NFT_USERDATA_MAXLEN is 256 for the whole udata). */
export const COMMENT_LENGTH_MAX = 128;

export class UdataWriter {
  private readonly parts: Buffer[] = [];

  put(type: number, value: Buffer): this {
    if (value.length > 255)
      throw new InvalidFieldError(
        `userdata ${type}`,
        value.length,
        'bytes does not fit a udata TLV (at most 255)',
      );
    this.parts.push(Buffer.from([type, value.length]), value);
    return this;
  }

  u32(type: number, value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(value >>> 0, 0);
    return this.put(type, b);
  }

  string(type: number, value: string): this {
    return this.put(type, Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]));
  }

  nested(type: number, build: (inner: UdataWriter) => void): this {
    const inner = new UdataWriter();
    build(inner);
    return this.put(type, inner.toBuffer());
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The TLVs of a udata blob by type (malformed tails are ignored, as nft does). */
export function readUdata(blob: Buffer): Map<number, Buffer> {
  const map = new Map<number, Buffer>();
  let offset = 0;
  while (offset + 2 <= blob.length) {
    const type = blob[offset] as number;
    const length = blob[offset + 1] as number;
    if (offset + 2 + length > blob.length) break;
    map.set(type, blob.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return map;
}

export function udataString(value: Buffer | undefined): string | undefined {
  if (value === undefined) return undefined;
  const end = value.indexOf(0);
  return value.toString('utf8', 0, end === -1 ? value.length : end);
}

/** A comment-only udata blob (tables, chains, rules, elements). */
export function commentUdata(field: string, comment: string | undefined): Buffer | undefined {
  if (comment === undefined) return undefined;
  if (Buffer.byteLength(comment) > COMMENT_LENGTH_MAX)
    throw new InvalidFieldError(field, comment, `is longer than ${COMMENT_LENGTH_MAX} bytes`);
  return new UdataWriter().string(UDATA_COMMENT, comment).toBuffer();
}
