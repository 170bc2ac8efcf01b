import { ProtobufDecodeError } from './errors';

/** Node's unchecked Buffer slicers (what `toString` calls after its argument checks). */
interface FastSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const TWO_32 = 4294967296;
/**
 * ASCII strings up to this long go through `recent`: a table of the last string seen per hash
 * slot, so the values a stream repeats (namespaces, node names, `Pod`, `TCP`, `IPv4`) are one
 * string each instead of one per object. Measured on the scale bench's 5,000 slices: less GC
 * and ~20% less decode CPU than a slice per string; the stored objects share the strings too.
 */
const RECENT_MAX_LENGTH = 24;
const RECENT_SLOTS = 4096;
const recent: (string | undefined)[] = new Array(RECENT_SLOTS).fill(undefined);

/**
 * A cursor over protobuf bytes: varints, lengths, strings and skipping, with bounds checks that
 * turn truncated or malformed input into a ProtobufDecodeError (never a read past the end or a
 * loop). One class with plain number fields so every decoder's calls stay monomorphic.
 */
export class ProtoReader {
  /** The next byte to read. */
  pos: number;
  /** The end of the readable bytes (exclusive). */
  readonly limit: number;
  private readonly fast: FastSlices;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.limit = end;
    this.fast = buf as unknown as FastSlices;
  }

  /** An unsigned varint of up to 64 bits as a number (exact below 2^53, as JSON's numbers are). */
  uint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.limit) throw new ProtobufDecodeError('varint', pos, 'input ends');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (pos >= this.limit) throw new ProtobufDecodeError('varint', pos, 'input ends inside a varint');
      if (i === 10) throw new ProtobufDecodeError('varint', pos, 'longer than 10 bytes');
      b = buf[pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    this.pos = pos;
    return value;
  }

  /** A signed 64-bit varint (two's complement, as Go writes a negative int64) as a number. */
  int64(): number {
    const start = this.pos;
    const value = this.uint();
    if (value < 2 ** 63) return value;
    // Ten bytes with bit 63 set: re-read as two 32-bit halves so the low bits are not rounded away.
    let lo = 0;
    let hi = 0;
    for (let i = 0, pos = start; i < 10; i++, pos++) {
      const bits = this.buf[pos]! & 0x7f;
      const shift = i * 7;
      if (shift < 32) lo |= bits << shift;
      if (shift + 7 > 32) hi |= shift >= 32 ? bits << (shift - 32) : bits >>> (32 - shift);
    }
    return (hi | 0) * TWO_32 + (lo >>> 0);
  }

  /** A signed 32-bit varint (Go's int32: a negative one is written as ten bytes). */
  int32(): number {
    const start = this.pos;
    const value = this.uint();
    if (value <= 0x7fffffff) return value;
    // The low 32 bits, read from the encoded bytes (the number rounded them away).
    let lo = 0;
    for (let shift = 0, pos = start; shift < 32; shift += 7, pos++) lo |= (this.buf[pos]! & 0x7f) << shift;
    return lo | 0;
  }

  bool(): boolean {
    return this.uint() !== 0;
  }

  /** Reads a length prefix; returns where the length-delimited field ends, checked against the input. */
  end(): number {
    const length = this.uint();
    const end = this.pos + length;
    if (end > this.limit)
      throw new ProtobufDecodeError(
        'length-delimited field',
        this.pos,
        `${length} bytes past the end of the input`,
      );
    return end;
  }

  /**
   * The UTF-8 string from `pos` to `end` (Go writes strings as UTF-8; invalid bytes become
   * U+FFFD, as JSON.parse of Go's JSON would have them). All-ASCII bytes (nearly every name,
   * address and label) are sliced as Latin-1, a one-byte string without UTF-8 decoding: measured
   * cheaper than utf8Slice and than building short strings byte by byte (each `+=` a new string).
   */
  stringTo(end: number): string {
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    const n = end - start;
    if (n > RECENT_MAX_LENGTH) {
      for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return this.fast.utf8Slice(start, end);
      return this.fast.latin1Slice(start, end);
    }
    let hash = n;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return this.fast.utf8Slice(start, end);
      hash = (Math.imul(hash, 31) + c) | 0;
    }
    const slot = hash & (RECENT_SLOTS - 1);
    const seen = recent[slot];
    if (seen !== undefined && seen.length === n && sameAscii(seen, buf, start)) return seen;
    const s = this.fast.latin1Slice(start, end);
    recent[slot] = s;
    return s;
  }

  /** A length-prefixed string field. */
  string(): string {
    return this.stringTo(this.end());
  }

  /** Skips a field's value of `wireType` (unknown fields are skipped, as Go's unmarshallers do). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.end();
        return;
      case 5:
        this.advance(4);
        return;
      case 3:
        this.skipGroup();
        return;
      default:
        throw new ProtobufDecodeError('field', this.pos, `wire type ${wireType} does not exist`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.limit) throw new ProtobufDecodeError('fixed field', this.pos, 'input ends');
    this.pos += n;
  }

  /** A proto2 group: fields until its end-group tag (wire type 4); Go skips these too. */
  private skipGroup(): void {
    for (;;) {
      const tag = this.uint();
      if ((tag & 7) === 4) return;
      this.skip(tag & 7);
    }
  }

  /** Throws unless a message's fields ended exactly at its declared end. */
  expectEnd(end: number, what: string): void {
    if (this.pos !== end)
      throw new ProtobufDecodeError(what, this.pos, `fields overrun the message end ${end}`);
  }
}

/** Whether `s` (of the same length) is the ASCII bytes from `start`. */
function sameAscii(s: string, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
