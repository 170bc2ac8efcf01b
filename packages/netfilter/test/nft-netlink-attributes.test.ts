import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import {
  AttributeWriter,
  attributeString,
  attributesByType,
  attributeU16,
  attributeU32,
  attributeU64,
  type NetlinkAttribute,
  NLA_F_NESTED,
  readAttributes,
} from '../src/nftables/netlink/attributes';

describe('netlink attributes', () => {
  it('writes the nla header in host order, payloads big-endian, and pads to 4 bytes', () => {
    const bytes = new AttributeWriter().u32(1, 0x01020304).u16(2, 0x0506).string(3, 'ab').toBuffer();
    expect(bytes.toString('hex')).toBe(
      // len 8 type 1 | 01020304 | len 6 type 2 | 0506 pad | len 7 type 3 | 'ab\0' pad
      ['08000100', '01020304', '06000200', '05060000', '07000300', '61620000'].join(''),
    );
  });

  it('nests with NLA_F_NESTED and reads back what it wrote', () => {
    const bytes = new AttributeWriter()
      .nested(4, (inner) => inner.u64(1, 0x1_0000_0002n).string(2, 'kube-proxy'))
      .flag(5)
      .toBuffer();
    const outer = readAttributes(bytes);
    expect(outer.map((a) => [a.type, a.nested])).toEqual([
      [4, true],
      [5, false],
    ]);
    expect(bytes.readUInt16LE(2)).toBe(4 | NLA_F_NESTED);
    const inner = attributesByType((outer[0] as { payload: Buffer }).payload);
    expect(attributeU64(inner.get(1)!)).toBe(0x1_0000_0002n);
    expect(attributeString(inner.get(2)!)).toBe('kube-proxy');
  });

  it('round-trips runs of mixed attributes of every payload length', () => {
    for (let length = 0; length < 9; length++) {
      const payload = Buffer.alloc(length, 0xab);
      const bytes = new AttributeWriter().bytes(7, payload).u32(8, 42).toBuffer();
      expect(bytes.length % 4).toBe(0);
      const [first, second] = readAttributes(bytes);
      expect(first?.payload.equals(payload)).toBe(true);
      expect(attributeU32(second!)).toBe(42);
    }
  });

  it('rejects truncated input and too-short payloads with typed errors', () => {
    const bytes = new AttributeWriter().u32(1, 7).toBuffer();
    expect(() => readAttributes(bytes.subarray(0, 6))).toThrow(InvalidFieldError);
    const short = readAttributes(new AttributeWriter().u16(1, 1).toBuffer())[0]!;
    expect(() => attributeU32(short)).toThrow(/too short for a u32/);
    expect(attributeU16(short)).toBe(1);
    expect(() => new AttributeWriter().bytes(1, Buffer.alloc(70_000))).toThrow(InvalidFieldError);
    expect(() => new AttributeWriter().raw(Buffer.alloc(3))).toThrow(/not 4-byte aligned/);
  });
});

describe('netlink attribute writer growth', () => {
  it('keeps every value when the buffer grows in the middle of a run (u8/u16/u32/u64/string/bytes/nests)', () => {
    const w = new AttributeWriter(8);
    for (let i = 0; i < 50; i++)
      w.u8(1, i)
        .u16(2, i)
        .u32(3, i)
        .u64(4, BigInt(i))
        .string(5, `s${i}`)
        .bytes(6, Buffer.alloc(i % 7, i))
        .nested(7, (n) => n.u64(1, BigInt(i)).u32(2, i));
    const attributes = readAttributes(w.toBuffer());
    expect(attributes).toHaveLength(350);
    for (let i = 0; i < 50; i++) {
      const [a, b, c, d, e, f, g] = attributes.slice(i * 7, i * 7 + 7) as NetlinkAttribute[];
      expect([
        a!.payload[0],
        attributeU16(b!),
        attributeU32(c!),
        attributeU64(d!),
        attributeString(e!),
      ]).toEqual([i, i, i, BigInt(i), `s${i}`]);
      expect(f!.payload.equals(Buffer.alloc(i % 7, i))).toBe(true);
      const inner = attributesByType(g!.payload);
      expect([attributeU64(inner.get(1)!), attributeU32(inner.get(2)!)]).toEqual([BigInt(i), i]);
    }
  });
});
