import { describe, expect, it } from 'vitest';
import { ProtobufDecodeError } from '../src/protobuf/errors';
import { ProtoReader } from '../src/protobuf/reader';
import { withUnknownFields } from './protobuf-fixtures';

/** A varint's bytes, as protobuf writes an unsigned (or two's complement) 64-bit value. */
function varint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

describe('ProtoReader varints', () => {
  // Around the boundaries of one to five varint bytes (7, 14, 21, 28, 35 bits) and of 32 and 53 bits.
  it.each([
    0n,
    1n,
    127n,
    128n,
    300n,
    16383n,
    16384n,
    2n ** 21n - 1n,
    2n ** 21n,
    2n ** 28n - 1n,
    2n ** 28n,
    2n ** 31n - 1n,
    2n ** 32n,
    2n ** 35n - 1n,
    2n ** 35n,
    2n ** 53n - 1n,
  ])('reads %s unsigned', (v) => {
    const r = new ProtoReader(varint(v));
    expect(r.uint()).toBe(Number(v));
    expect(r.pos).toBe(varint(v).length);
  });

  it.each([-1n, -2n, -300n, -(2n ** 31n), -(2n ** 40n), -(2n ** 53n - 1n), 2n ** 62n])(
    'reads %s as int64',
    (v) => {
      expect(new ProtoReader(varint(v)).int64()).toBe(Number(v));
    },
  );

  it.each([-1n, -5n, -(2n ** 31n), 2n ** 31n - 1n, 0n])(
    'reads %s as int32 (negative ones are ten bytes)',
    (v) => {
      const bytes = varint(v);
      expect(bytes.length).toBe(v < 0n ? 10 : bytes.length);
      expect(new ProtoReader(bytes).int32()).toBe(Number(v));
    },
  );

  it('refuses a truncated varint, an empty input and one longer than ten bytes', () => {
    // Cut after two bytes and after five.
    for (const bytes of [
      [0x80, 0x80],
      [0x80, 0x80, 0x80, 0x80, 0x80],
    ]) {
      const read = () => new ProtoReader(Buffer.from(bytes)).uint();
      expect(read).toThrow(ProtobufDecodeError);
      expect(read).toThrow(/inside a varint/);
    }
    expect(() => new ProtoReader(Buffer.alloc(0)).uint()).toThrow(/input ends/);
    expect(() => new ProtoReader(Buffer.alloc(11, 0xff)).uint()).toThrow(/longer than 10 bytes/);
  });

  it('stops at its limit, not at the buffer end', () => {
    const r = new ProtoReader(Buffer.from([0x96, 0x01]), 0, 1);
    expect(() => r.uint()).toThrow(ProtobufDecodeError);
  });
});

describe('ProtoReader strings and lengths', () => {
  it('reads ASCII, non-ASCII and long strings', () => {
    for (const s of [
      '',
      'a',
      'héllo',
      '日本語-ラベル',
      'x'.repeat(15),
      'y'.repeat(16),
      `${'z'.repeat(40)}é`,
      '😀',
    ]) {
      const bytes = Buffer.from(s);
      const r = new ProtoReader(Buffer.concat([varint(BigInt(bytes.length)), bytes]));
      expect(r.string()).toBe(s);
    }
  });

  it('short ASCII strings that share a hash slot stay apart; a repeated one is the same string', () => {
    const strings = Array.from({ length: 20_000 }, (_, i) => `s${i.toString(36)}`);
    const bytes = Buffer.concat(strings.flatMap((s) => [Buffer.from([s.length]), Buffer.from(s)]));
    const r = new ProtoReader(bytes);
    expect(strings.map(() => r.string())).toEqual(strings);
    expect(new ProtoReader(Buffer.from('\x03Pod')).string()).toBe('Pod');
  });

  it('refuses a length past the end', () => {
    const r = new ProtoReader(Buffer.from([5, 0x61, 0x62]));
    expect(() => r.string()).toThrow(/5 bytes past the end/);
  });
});

describe('ProtoReader.skip', () => {
  it('skips a field of every wire type (varint, fixed64, bytes, fixed32, group)', () => {
    const bytes = withUnknownFields(Buffer.alloc(0));
    const r = new ProtoReader(bytes);
    const fields: number[] = [];
    while (r.pos < bytes.length) {
      const tag = r.uint();
      fields.push(tag >>> 3);
      r.skip(tag & 7);
    }
    expect(fields).toEqual([99, 98, 97, 96, 95]);
    expect(r.pos).toBe(bytes.length);
  });

  it.each([
    ['fixed64', [1, 2, 3]],
    ['fixed32', [1, 2]],
    ['bytes', [10]],
  ] as const)('refuses a truncated %s', (_name, rest) => {
    const wire = { fixed64: 1, fixed32: 5, bytes: 2 }[_name];
    const r = new ProtoReader(Buffer.from(rest));
    expect(() => r.skip(wire)).toThrow(ProtobufDecodeError);
  });

  it('refuses wire types 6 and 7, and an unterminated group', () => {
    expect(() => new ProtoReader(Buffer.alloc(4)).skip(6)).toThrow(/wire type 6 does not exist/);
    expect(() => new ProtoReader(Buffer.alloc(4)).skip(7)).toThrow(/wire type 7/);
    expect(() => new ProtoReader(Buffer.from([0x08, 0x01])).skip(3)).toThrow(ProtobufDecodeError);
  });

  it('every truncation of a message throws a typed error or ends, never hangs or reads past', () => {
    const bytes = withUnknownFields(Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]));
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = new ProtoReader(bytes, 0, cut);
      try {
        while (r.pos < cut) r.skip(r.uint() & 7);
        expect(r.pos).toBe(cut);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtobufDecodeError);
      }
    }
  });
});
