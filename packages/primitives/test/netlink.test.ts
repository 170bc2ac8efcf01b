import { describe, expect, it } from 'vitest';
import { CodedError } from '../src/errors';
import {
  attributesByType,
  attributeTable,
  encodeNetlinkMessage,
  errnoName,
  forEachAttribute,
  isNetlinkFormatError,
  lazyNetlinkAddon,
  NETLINK_ADDON_HINT,
  NetlinkAttributeWriter,
  NetlinkFormatError,
  NLA_F_NESTED,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  readAttributes,
  readBe16,
  readBe32,
  readBe64,
  readNetlinkError,
  readString,
  readU8,
  readU16,
  readU32,
  readU64,
  splitNetlinkMessages,
} from '../src/netlink/index';

/** A package's own (field, value, reason) error, as netfilter passes its InvalidFieldError. */
class PackageFieldError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

describe('NetlinkAttributeWriter', () => {
  it('writes the header in host order, integers host or network order as named, and pads to 4', () => {
    const bytes = new NetlinkAttributeWriter()
      .u8(1, 0xab)
      .u16(2, 0x0102)
      .be16(3, 0x0102)
      .u32(4, 0x01020304)
      .be32(5, 0x01020304)
      .u64(6, 0x0102030405060708n)
      .be64(7, 0x0102030405060708n)
      .string(8, 'ab')
      .flag(9)
      .toBuffer();
    expect(bytes.toString('hex')).toBe(
      [
        '05000100ab000000', // len 5 type 1 | ab + 3 padding
        '0600020002010000', // u16 host: 02 01
        '0600030001020000', // be16: 01 02
        '0800040004030201',
        '0800050001020304',
        '0c000600' + '0807060504030201',
        '0c000700' + '0102030405060708',
        '0700080061620000', // 'ab\0' + 1 padding
        '04000900', // a flag: header only
      ].join(''),
    );
  });

  it('nests with NLA_F_NESTED, by callback or by open/close, to the same bytes', () => {
    const byCallback = new NetlinkAttributeWriter()
      .nested(4, (inner) => inner.u32(1, 7).string(2, 'x'))
      .toBuffer();
    const byHand = new NetlinkAttributeWriter();
    const at = byHand.open();
    byHand.u32(1, 7).string(2, 'x').close(at, 4);
    expect(byHand.toBuffer().equals(byCallback)).toBe(true);
    expect(byCallback.readUInt16LE(0)).toBe(byCallback.length);
    expect(byCallback.readUInt16LE(2)).toBe(4 | NLA_F_NESTED);
    const [outer] = readAttributes(byCallback);
    expect(outer).toMatchObject({ type: 4, nested: true });
    const inner = attributesByType(outer!.payload);
    expect([readU32(inner.get(1)!.payload), readString(inner.get(2)!.payload)]).toEqual([7, 'x']);
  });

  it('puts a zeroed fixed header before the attributes and zeroes a fill payload before filling it', () => {
    const w = new NetlinkAttributeWriter(8).fixedHeader(4, (out, at) => {
      out[at] = 5;
      out[at + 1] = 1;
    });
    // Dirty the pool-backed buffer's next bytes through a write that is then truncated.
    const mark = w.length;
    w.bytes(1, Buffer.alloc(16, 0xff));
    w.truncate(mark);
    w.fill(2, 16, (out, at) => {
      out[at] = 10;
    });
    expect(w.toBuffer().toString('hex')).toBe(`05010000 14000200 0a${'00'.repeat(15)}`.replace(/ /g, ''));
  });

  it('keeps every value when the buffer grows in the middle of a run', () => {
    const w = new NetlinkAttributeWriter(8);
    for (let i = 0; i < 40; i++)
      w.u16(1, i)
        .be32(2, i)
        .string(3, `s${i}`)
        .nested(4, (n) => n.u64(1, BigInt(i)));
    const attributes = readAttributes(w.toBuffer());
    expect(attributes).toHaveLength(160);
    for (let i = 0; i < 40; i++) {
      const [a, b, c, d] = attributes.slice(i * 4, i * 4 + 4);
      const nested = readAttributes(d!.payload)[0]!;
      expect([
        readU16(a!.payload),
        readBe32(b!.payload),
        readString(c!.payload),
        readU64(nested.payload),
      ]).toEqual([i, i, `s${i}`, BigInt(i)]);
    }
  });

  it('rejects what netlink cannot carry with a typed error naming field and value', () => {
    const tooLong = (() => {
      try {
        new NetlinkAttributeWriter().bytes(3, Buffer.alloc(70_000));
      } catch (e) {
        return e;
      }
    })();
    expect(tooLong).toBeInstanceOf(NetlinkFormatError);
    expect(tooLong).toBeInstanceOf(CodedError);
    expect(tooLong).toMatchObject({ code: 'NETLINK_FORMAT', field: 'netlink attribute 3', value: 70_000 });
    expect(isNetlinkFormatError(tooLong)).toBe(true);
    expect(() => new NetlinkAttributeWriter().raw(Buffer.alloc(3))).toThrow(/not 4-byte aligned/);
    expect(() => new NetlinkAttributeWriter().u32(1, 1).truncate(12)).toThrow(NetlinkFormatError);
    const nestedTooLong = new NetlinkAttributeWriter();
    expect(() =>
      nestedTooLong.nested(1, (inner) => {
        for (let i = 0; i < 2; i++) inner.bytes(2, Buffer.alloc(40_000));
      }),
    ).toThrow(NetlinkFormatError);
  });

  it('lets a subclass throw its own error class', () => {
    class PackageWriter extends NetlinkAttributeWriter {
      protected override invalid(field: string, value: unknown, reason: string): Error {
        return new PackageFieldError(field, value, reason);
      }
    }
    expect(() => new PackageWriter().raw(Buffer.alloc(5))).toThrow(PackageFieldError);
  });
});

describe('attribute readers', () => {
  const run = new NetlinkAttributeWriter().u32(1, 7).u32(9, 8).u32(1, 9).toBuffer();

  it('reads a run in order, by type (last wins), and as a table up to maxType', () => {
    expect(readAttributes(run).map((a) => [a.type, readU32(a.payload)])).toEqual([
      [1, 7],
      [9, 8],
      [1, 9],
    ]);
    expect(readU32(attributesByType(run).get(1)!.payload)).toBe(9);
    const table = attributeTable(run, 4);
    expect(table).toHaveLength(5);
    expect([readU32(table[1]), table[9], table[2]]).toEqual([9, undefined, undefined]);
  });

  it('ignores trailing bytes too few for a header, and rejects a length that overruns', () => {
    expect(readAttributes(Buffer.concat([run, Buffer.alloc(3)]))).toHaveLength(3);
    const bad = Buffer.from(run);
    bad.writeUInt16LE(40, 8);
    expect(() => readAttributes(bad, 'genl')).toThrow(
      expect.objectContaining({ code: 'NETLINK_FORMAT', field: 'genl at offset 8', value: 40 }),
    );
    expect(() => readAttributes(bad, 'genl')).toThrow(/overruns the 16 bytes left/);
    expect(() => forEachAttribute(bad, () => {}, undefined, PackageFieldError)).toThrow(PackageFieldError);
    const belowHeader = Buffer.from('02000100', 'hex');
    expect(() => attributeTable(belowHeader, 1)).toThrow(NetlinkFormatError);
  });

  it('reads integers of each width and order, passing an absent payload through', () => {
    const payload = Buffer.from('0102030405060708', 'hex');
    expect([
      readU8(payload),
      readU16(payload),
      readBe16(payload),
      readU32(payload),
      readBe32(payload),
    ]).toEqual([0x01, 0x0201, 0x0102, 0x04030201, 0x01020304]);
    expect([readU64(payload), readBe64(payload)]).toEqual([0x0807060504030201n, 0x0102030405060708n]);
    expect(readU32(undefined, 'service.port')).toBeUndefined();
    expect(readString(undefined)).toBeUndefined();
    expect(readString(Buffer.from('kube\0junk'))).toBe('kube');
    expect(readString(Buffer.from('no-nul'))).toBe('no-nul');
  });

  it('rejects a payload too short for its type, naming the field (or the attribute type)', () => {
    const two = Buffer.alloc(2);
    expect(() => readU32(two, 'info.version')).toThrow(
      expect.objectContaining({ code: 'NETLINK_FORMAT', field: 'info.version', value: 2 }),
    );
    expect(() => readBe64(two, 7)).toThrow(expect.objectContaining({ field: 'netlink attribute 7' }));
    expect(() => readBe32(two, 7, PackageFieldError)).toThrow(/too short for a u32/);
  });
});

describe('netlink messages', () => {
  it('encodes a header and padded payload, and splits a datagram back into messages', () => {
    const first = encodeNetlinkMessage(0x10, 0x5, 7, 42, Buffer.from('abcde'));
    expect(first.toString('hex')).toBe(
      ['15000000', '1000', '0500', '07000000', '2a000000', '6162636465000000'].join(''),
    );
    const second = encodeNetlinkMessage(3, 2, 8, 0, Buffer.alloc(0));
    const messages = splitNetlinkMessages(Buffer.concat([first, second]));
    expect(messages.map(({ body, ...header }) => ({ ...header, body: body.toString() }))).toEqual([
      { type: 0x10, flags: 5, seq: 7, port: 42, body: 'abcde' },
      { type: 3, flags: 2, seq: 8, port: 0, body: '' },
    ]);
    const truncated = Buffer.concat([first, second]).subarray(0, 20);
    expect(() => splitNetlinkMessages(truncated)).toThrow(
      expect.objectContaining({ code: 'NETLINK_FORMAT', field: 'netlink message at offset 0', value: 21 }),
    );
    expect(() => splitNetlinkMessages(truncated, PackageFieldError)).toThrow(PackageFieldError);
  });

  it('reads an NLMSG_ERROR: positive errno and the request it answers', () => {
    const request = encodeNetlinkMessage(0x0a10, 1, 99, 0, Buffer.alloc(0));
    const body = Buffer.alloc(4 + NLMSG_HDRLEN);
    body.writeInt32LE(-17, 0);
    request.copy(body, 4, 0, NLMSG_HDRLEN);
    const [reply] = splitNetlinkMessages(encodeNetlinkMessage(NLMSG_ERROR, 0, 99, 0, body));
    expect(readNetlinkError(reply!.body)).toEqual({ errno: 17, type: 0x0a10, seq: 99 });
    expect(() => readNetlinkError(Buffer.alloc(8))).toThrow(/too short for struct nlmsgerr/);
  });

  it('names errnos either sign, and unknown ones by number', () => {
    expect([errnoName(2), errnoName(-17), errnoName(105)]).toEqual(['ENOENT', 'EEXIST', 'ENOBUFS']);
    expect(errnoName(100_000)).toBe('E100000');
  });
});

describe('lazyNetlinkAddon', () => {
  class UnavailableError extends Error {
    constructor(readonly reason: string) {
      super(`unavailable: ${reason}`);
    }
  }

  it('loads nothing until first called, then once, unwrapping a CommonJS default export', async () => {
    let loads = 0;
    const addon = { createNetlink: () => 'socket' };
    const load = lazyNetlinkAddon<typeof addon>(
      async () => {
        loads++;
        return { default: addon };
      },
      (reason) => new UnavailableError(reason),
    );
    expect(loads).toBe(0);
    expect(await load()).toBe(addon);
    expect(await load()).toBe(addon);
    expect(loads).toBe(1);
  });

  it("rejects with the caller's error giving the reason, and tries again on the next call", async () => {
    let loads = 0;
    const load = lazyNetlinkAddon<{ ok: true }>(
      async () => {
        loads++;
        if (loads === 1)
          throw new Error('No native build was found for platform=linux libc=musl\n    at load');
        return { ok: true };
      },
      (reason) => new UnavailableError(reason),
    );
    const err = await load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).reason).toBe(
      'the native "netlink" addon could not be loaded: No native build was found for platform=linux libc=musl',
    );
    expect(await load()).toEqual({ ok: true });
    expect(loads).toBe(2);
    expect(NETLINK_ADDON_HINT).toMatch(/optional dependency/);
  });
});
