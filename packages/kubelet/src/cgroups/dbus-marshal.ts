/**
 * The D-Bus wire format (little-endian), driven by type signatures: enough of it for the systemd
 * manager calls the systemd cgroup driver makes. Values: numbers for the 8–32-bit integers, bigint
 * for 'x'/'t', strings for 's'/'o'/'g', booleans, arrays for 'a…', tuples for structs and dict
 * entries, and { signature, value } for variants.
 */

/** A variant ('v'): the value with its own signature. */
export interface DbusVariant {
  signature: string;
  value: DbusValue;
}

/** A D-Bus value as JavaScript holds it: numbers (bigint for 64-bit), strings, booleans, variants, arrays; structs and dict entries as tuples. */
export type DbusValue = number | bigint | string | boolean | DbusVariant | DbusValue[];

/** A signature or a value that does not fit it (a bug in the caller, or a malformed message). */
export class DbusWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DbusWireError';
  }
}

/** The end index (exclusive) of the single complete type starting at `start`. */
function completeTypeEnd(signature: string, start: number): number {
  const c = signature[start];
  if (c === undefined) throw new DbusWireError(`signature ${JSON.stringify(signature)} ends early`);
  if (c === 'a') return completeTypeEnd(signature, start + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let i = start + 1;
    while (signature[i] !== close) {
      if (i >= signature.length) throw new DbusWireError(`unclosed ${c} in ${JSON.stringify(signature)}`);
      i = completeTypeEnd(signature, i);
    }
    return i + 1;
  }
  if (!'ybnqiuxtdsogvh'.includes(c))
    throw new DbusWireError(`unknown type ${JSON.stringify(c)} in ${JSON.stringify(signature)}`);
  return start + 1;
}

/** "sa(sv)b" → ["s", "a(sv)", "b"]. */
export function splitSignature(signature: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < signature.length; ) {
    const end = completeTypeEnd(signature, i);
    out.push(signature.slice(i, end));
    i = end;
  }
  return out;
}

function alignmentOf(type: string): number {
  switch (type[0]) {
    case 'y':
    case 'g':
    case 'v':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 4;
  }
}

/** Serialises values into a growing buffer; offsets count from the buffer's start (8-aligned in the message). */
export class WireWriter {
  private buffer = Buffer.alloc(256);
  length = 0;

  private reserve(bytes: number): number {
    if (this.length + bytes > this.buffer.length) {
      const bigger = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    const at = this.length;
    this.length += bytes;
    return at;
  }

  align(to: number): void {
    while (this.length % to !== 0) {
      const at = this.reserve(1);
      this.buffer[at] = 0;
    }
  }

  /**
   * Aligns, reserves `bytes` and hands the (possibly reallocated) buffer and the offset to `put`:
   * the buffer must be read after reserve() has grown it.
   */
  private put(bytes: number, put: (buffer: Buffer, at: number) => unknown): void {
    this.align(bytes);
    const at = this.reserve(bytes);
    put(this.buffer, at);
  }

  u8(value: number): void {
    this.put(1, (b, at) => b.writeUInt8(value, at));
  }

  u32(value: number): void {
    this.put(4, (b, at) => b.writeUInt32LE(value, at));
  }

  private stringBytes(text: string, lengthWidth: 1 | 4): void {
    const bytes = Buffer.from(text, 'utf8');
    if (lengthWidth === 1) this.u8(bytes.length);
    else this.u32(bytes.length);
    const at = this.reserve(bytes.length);
    bytes.copy(this.buffer, at);
    this.u8(0);
  }

  /** Writes one value of a single complete type. */
  write(type: string, value: DbusValue): void {
    const number = () => Number(value);
    const big = () => BigInt(value as number | bigint);
    switch (type[0]) {
      case 'y':
        this.u8(number());
        break;
      case 'b':
        this.u32(value ? 1 : 0);
        break;
      case 'n':
        this.put(2, (b, at) => b.writeInt16LE(number(), at));
        break;
      case 'q':
        this.put(2, (b, at) => b.writeUInt16LE(number(), at));
        break;
      case 'i':
        this.put(4, (b, at) => b.writeInt32LE(number(), at));
        break;
      case 'u':
      case 'h':
        this.u32(number());
        break;
      case 'x':
        this.put(8, (b, at) => b.writeBigInt64LE(big(), at));
        break;
      case 't':
        this.put(8, (b, at) => b.writeBigUInt64LE(big(), at));
        break;
      case 'd':
        this.put(8, (b, at) => b.writeDoubleLE(number(), at));
        break;
      case 's':
      case 'o':
        this.stringBytes(String(value), 4);
        break;
      case 'g':
        this.stringBytes(String(value), 1);
        break;
      case 'v': {
        const variant = value as DbusVariant;
        this.stringBytes(variant.signature, 1);
        this.write(variant.signature, variant.value);
        break;
      }
      case 'a':
        this.writeArray(type.slice(1), value as DbusValue[]);
        break;
      case '(':
      case '{': {
        this.align(8);
        const items = value as DbusValue[];
        for (const [i, field] of splitSignature(type.slice(1, -1)).entries())
          this.write(field, items[i] as DbusValue);
        break;
      }
      default:
        throw new DbusWireError(`cannot write type ${JSON.stringify(type)}`);
    }
  }

  private writeArray(element: string, items: readonly DbusValue[]): void {
    this.u32(0);
    const lengthAt = this.length - 4;
    // The length counts the elements, not the padding before the first one.
    this.align(alignmentOf(element));
    const start = this.length;
    for (const item of items) this.write(element, item);
    this.buffer.writeUInt32LE(this.length - start, lengthAt);
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** Reads values from a message buffer; `base` is where 8-byte alignment counts from. */
export class WireReader {
  offset: number;
  constructor(
    private readonly buffer: Buffer,
    offset = 0,
    private readonly base = 0,
  ) {
    this.offset = offset;
  }

  private align(to: number): void {
    const rel = this.offset - this.base;
    this.offset += (to - (rel % to)) % to;
  }

  private take(bytes: number): number {
    if (this.offset + bytes > this.buffer.length)
      throw new DbusWireError(`message truncated at ${this.offset} (+${bytes})`);
    const at = this.offset;
    this.offset += bytes;
    return at;
  }

  u8(): number {
    return this.buffer.readUInt8(this.take(1));
  }

  u32(): number {
    this.align(4);
    return this.buffer.readUInt32LE(this.take(4));
  }

  private string(lengthWidth: 1 | 4): string {
    const length = lengthWidth === 1 ? this.u8() : this.u32();
    const at = this.take(length + 1);
    return this.buffer.toString('utf8', at, at + length);
  }

  read(type: string): DbusValue {
    const b = this.buffer;
    switch (type[0]) {
      case 'y':
        return this.u8();
      case 'b':
        return this.u32() !== 0;
      case 'n':
        this.align(2);
        return b.readInt16LE(this.take(2));
      case 'q':
        this.align(2);
        return b.readUInt16LE(this.take(2));
      case 'i':
        this.align(4);
        return b.readInt32LE(this.take(4));
      case 'u':
      case 'h':
        return this.u32();
      case 'x':
        this.align(8);
        return b.readBigInt64LE(this.take(8));
      case 't':
        this.align(8);
        return b.readBigUInt64LE(this.take(8));
      case 'd':
        this.align(8);
        return b.readDoubleLE(this.take(8));
      case 's':
      case 'o':
        return this.string(4);
      case 'g':
        return this.string(1);
      case 'v': {
        const signature = this.string(1);
        return { signature, value: this.read(signature) };
      }
      case 'a': {
        const length = this.u32();
        const element = type.slice(1);
        this.align(alignmentOf(element));
        const end = this.offset + length;
        const items: DbusValue[] = [];
        while (this.offset < end) items.push(this.read(element));
        return items;
      }
      case '(':
      case '{':
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((field) => this.read(field));
      default:
        throw new DbusWireError(`cannot read type ${JSON.stringify(type)}`);
    }
  }
}
