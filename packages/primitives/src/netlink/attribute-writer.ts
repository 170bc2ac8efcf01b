import { NLA_F_NESTED, NLA_HEADER_LENGTH, NLA_LENGTH_MAX, NLA_TYPE_MASK, nlaAlign } from './constants';
import { NetlinkFormatError } from './errors';

/**
 * Writes a struct nlattr header at `at`: u16 length (header included), then u16 type, both in
 * host order (little-endian on the machines this runs on), byte by byte: for hot loops that lay
 * out several attributes in space they reserved at once, where Buffer's writers' checks cost more
 * than the work.
 */
export function writeAttributeHeader(out: Buffer, at: number, length: number, type: number): void {
  out[at] = length & 0xff;
  out[at + 1] = length >>> 8;
  out[at + 2] = type & 0xff;
  out[at + 3] = type >>> 8;
}

/**
 * Builds a run of netlink attributes (struct nlattr: u16 length that includes the 4-byte header,
 * u16 type, the payload, zero padding to 4 bytes) into one growing buffer, with no intermediate
 * buffers: encoding is on the hot path of bulk updates (tens of thousands of nf_tables elements,
 * IPVS destinations). `u16`/`u32`/`u64` write host order (little-endian on every platform the
 * addon ships for), as the kernel's nla_put_u32; `be16`/`be32`/`be64` write network order, as
 * nla_put_be32. A family whose integers are all network order (nf_tables) subclasses this and
 * points `u16`/`u32`/`u64` at the big-endian writers; a package that wants its own error class
 * overrides `invalid`.
 */
export class NetlinkAttributeWriter {
  // allocUnsafe draws from Node's pool (a fresh zeroed buffer per writer is measurably slower);
  // every byte handed out is written or explicitly zeroed.
  private buffer: Buffer;
  private position = 0;

  /** `initialBytes` is only the first buffer's size: it doubles as needed. */
  constructor(initialBytes = 128) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, 8));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.position;
  }

  /** The error to throw for a value that cannot be written (this class: NetlinkFormatError). */
  protected invalid(field: string, value: unknown, reason: string): Error {
    return new NetlinkFormatError(field, value, reason);
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
      throw this.invalid(
        `netlink attribute ${type & NLA_TYPE_MASK}`,
        payloadLength,
        `bytes do not fit a netlink attribute (at most ${NLA_LENGTH_MAX - NLA_HEADER_LENGTH})`,
      );
  }

  /** Writes an attribute's header and zeroes its padding; returns where its payload goes. */
  private begin(type: number, payloadLength: number): number {
    this.checkLength(type, payloadLength);
    const total = NLA_HEADER_LENGTH + payloadLength;
    const aligned = nlaAlign(total);
    this.reserve(aligned);
    const at = this.position;
    const b = this.buffer;
    writeAttributeHeader(b, at, total, type);
    // A loop, not Buffer#fill: for a few bytes its argument checks cost more than the work.
    for (let i = at + total; i < at + aligned; i++) b[i] = 0;
    this.position = at + aligned;
    return at + NLA_HEADER_LENGTH;
  }

  /**
   * `size` bytes that are no attribute, zeroed, then filled by `fill`: the fixed header of a
   * family that precedes its attributes (genlmsghdr, nfgenmsg). Padded to 4 like the rest.
   */
  fixedHeader(size: number, fill: (out: Buffer, at: number) => void): this {
    const aligned = nlaAlign(size);
    this.reserve(aligned);
    const at = this.position;
    this.buffer.fill(0, at, at + aligned);
    this.position += aligned;
    fill(this.buffer, at);
    return this;
  }

  /** An attribute with these bytes as its payload. */
  bytes(type: number, payload: Uint8Array): this {
    const at = this.begin(type, payload.length);
    this.buffer.set(payload, at);
    return this;
  }

  /**
   * An attribute of `payloadLength` bytes, zeroed, that `fill` writes in place at `at` (an
   * IPv4 address in a 16-byte union writes 4 and leaves the rest zero).
   */
  fill(type: number, payloadLength: number, fill: (out: Buffer, at: number) => void): this {
    const at = this.begin(type, payloadLength);
    this.buffer.fill(0, at, at + payloadLength);
    fill(this.buffer, at);
    return this;
  }

  /**
   * An attribute of `payloadLength` bytes whose payload the caller writes into `bytesView` at
   * the returned offset, every byte of it (the padding is zeroed): for hot loops, no callback.
   */
  reserveAttribute(type: number, payloadLength: number): number {
    return this.begin(type, payloadLength);
  }

  /** The buffer being written (valid until the next append, which may replace it). */
  get bytesView(): Buffer {
    return this.buffer;
  }

  /** An attribute without payload (a flag). */
  flag(type: number): this {
    this.begin(type, 0);
    return this;
  }

  /** An 8-bit attribute. */
  u8(type: number, value: number): this {
    // begin() first: it may replace the buffer.
    const at = this.begin(type, 1);
    this.buffer.writeUInt8(value, at);
    return this;
  }

  /** A 16-bit attribute in host byte order. */
  u16(type: number, value: number): this {
    const at = this.begin(type, 2);
    this.buffer.writeUInt16LE(value, at);
    return this;
  }

  /** A 16-bit attribute in network byte order (ports). */
  be16(type: number, value: number): this {
    const at = this.begin(type, 2);
    this.buffer.writeUInt16BE(value, at);
    return this;
  }

  /** A 32-bit attribute in host byte order. */
  u32(type: number, value: number): this {
    const at = this.begin(type, 4);
    this.buffer.writeUInt32LE(value >>> 0, at);
    return this;
  }

  /** A 32-bit attribute in network byte order. */
  be32(type: number, value: number): this {
    const at = this.begin(type, 4);
    this.buffer.writeUInt32BE(value >>> 0, at);
    return this;
  }

  /** A 64-bit attribute in host byte order. */
  u64(type: number, value: bigint | number): this {
    const at = this.begin(type, 8);
    this.buffer.writeBigUInt64LE(BigInt(value), at);
    return this;
  }

  /** A 64-bit attribute in network byte order (nf_tables handles, timeouts, counters). */
  be64(type: number, value: bigint | number): this {
    const at = this.begin(type, 8);
    this.buffer.writeBigUInt64BE(BigInt(value), at);
    return this;
  }

  /** A NUL-terminated string, as NLA_STRING / NLA_NUL_STRING expect. */
  string(type: number, value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    const at = this.begin(type, length + 1);
    this.buffer.write(value, at, length, 'utf8');
    this.buffer[at + length] = 0;
    return this;
  }

  /**
   * A nested attribute (NLA_F_NESTED set on the type) whose children `build` appends. The writer
   * it gets is this one, so its `length` counts from the start of the whole run.
   */
  nested(type: number, build: (inner: this) => void): this {
    const at = this.open(type);
    build(this);
    return this.close(at, type);
  }

  /**
   * Starts a nested attribute by hand (`nested` without a callback, for hot loops): returns
   * where its header is, for `close(at, type)`, which writes it.
   */
  open(_type?: number): number {
    this.reserve(NLA_HEADER_LENGTH);
    const at = this.position;
    this.position += NLA_HEADER_LENGTH;
    return at;
  }

  /** Ends the nested attribute `open(type)` started at `at`: its length and type are written now. */
  close(at: number, type: number): this {
    const total = this.position - at;
    this.checkLength(type, total - NLA_HEADER_LENGTH);
    writeAttributeHeader(this.buffer, at, total, type | NLA_F_NESTED);
    return this;
  }

  /** A nested attribute whose payload is given already encoded (and aligned). */
  nestedBytes(type: number, payload: Uint8Array): this {
    return this.bytes(type | NLA_F_NESTED, payload);
  }

  /** Already-encoded attributes, appended verbatim (they must be 4-byte aligned). */
  raw(encoded: Uint8Array): this {
    if (encoded.length % 4 !== 0)
      throw this.invalid('netlink attributes', encoded.length, 'is not 4-byte aligned');
    this.reserve(encoded.length);
    this.buffer.set(encoded, this.position);
    this.position += encoded.length;
    return this;
  }

  /** Forgets everything appended after `position` (a `length` read earlier). */
  truncate(position: number): void {
    if (position < 0 || position > this.position)
      throw this.invalid('netlink attribute position', position, `is not within 0..${this.position}`);
    this.position = position;
  }

  /** The run so far (a view: later appends never change these bytes, a `truncate` may). */
  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.position);
  }
}
