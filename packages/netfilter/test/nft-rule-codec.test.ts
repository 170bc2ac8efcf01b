import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeExpressions, encodeExpressions, type NftExpression } from '../src/nftables/netlink/rule/index';
import { CT_KEYS, META_KEYS } from '../src/nftables/netlink/rule/netlink-constants';

// Every expression the compiler can emit survives encoding to NFTA_RULE_EXPRESSIONS bytes and
// decoding back (the decoder is also how rules dumped from the kernel are read).

const reg = fc.constantFrom(0, 1, 2, 3, 4, 8, 9, 10, 15, 23);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const data = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) => Buffer.from(a));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const name = fc.stringMatching(/^[a-z][a-z0-9/_-]{0,30}$/);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const expression: fc.Arbitrary<NftExpression> = fc.oneof(
  fc.record({
    kind: fc.constant('payload' as const),
    base: fc.constantFrom('link' as const, 'network' as const, 'transport' as const, 'inner' as const),
    offset: fc.nat(64),
    len: fc.integer({ min: 1, max: 16 }),
    dreg: reg,
  }),
  fc.record({ kind: fc.constant('meta' as const), key: fc.constantFrom(...META_KEYS), dreg: reg }),
  fc.record({ kind: fc.constant('meta' as const), key: fc.constantFrom(...META_KEYS), sreg: reg }),
  fc
    .record({
      kind: fc.constant('ct' as const),
      key: fc.constantFrom(...CT_KEYS),
      dreg: reg,
      direction: opt(fc.constantFrom('original' as const, 'reply' as const)),
    })
    .map(strip),
  fc.record({
    kind: fc.constant('cmp' as const),
    op: fc.constantFrom(
      'eq' as const,
      'neq' as const,
      'lt' as const,
      'lte' as const,
      'gt' as const,
      'gte' as const,
    ),
    sreg: reg,
    data,
  }),
  fc.record({
    kind: fc.constant('range' as const),
    op: fc.constantFrom('eq' as const, 'neq' as const),
    sreg: reg,
    from: data,
    to: data,
  }),
  fc.record({
    kind: fc.constant('bitwise' as const),
    sreg: reg,
    dreg: reg,
    len: fc.integer({ min: 1, max: 16 }),
    mask: data,
    xor: data,
  }),
  fc.record({
    kind: fc.constant('byteorder' as const),
    op: fc.constantFrom('ntoh' as const, 'hton' as const),
    sreg: reg,
    dreg: reg,
    len: fc.integer({ min: 1, max: 16 }),
    size: fc.constantFrom(2, 4, 8),
  }),
  fc
    .record({
      kind: fc.constant('lookup' as const),
      sreg: reg,
      set: name,
      setId: opt(u32),
      dreg: opt(reg),
      flags: opt(fc.constantFrom(0, 1)),
    })
    .map(strip),
  fc.record({ kind: fc.constant('immediate' as const), dreg: reg, data }),
  fc.record({
    kind: fc.constant('immediate' as const),
    dreg: fc.constant(0),
    verdict: fc.oneof(
      fc.record({
        kind: fc.constantFrom('accept' as const, 'drop' as const, 'return' as const, 'continue' as const),
      }),
      fc.record({ kind: fc.constantFrom('jump' as const, 'goto' as const), chain: name }),
    ),
  }),
  fc
    .record({
      kind: fc.constant('nat' as const),
      type: fc.constantFrom('snat' as const, 'dnat' as const),
      family: fc.constantFrom('ip' as const, 'ip6' as const),
      regAddrMin: opt(reg),
      regAddrMax: opt(reg),
      regProtoMin: opt(reg),
      regProtoMax: opt(reg),
      flags: opt(fc.nat(0x3f)),
    })
    .map(strip),
  fc
    .record({
      kind: fc.constant('masq' as const),
      flags: opt(fc.nat(0x3f)),
      regProtoMin: opt(reg),
      regProtoMax: opt(reg),
    })
    .map(strip),
  fc.record({ kind: fc.constant('counter' as const), packets: u64, bytes: u64 }),
  fc
    .record({
      kind: fc.constant('numgen' as const),
      dreg: reg,
      type: fc.constantFrom('inc' as const, 'random' as const),
      modulus: u32,
      offset: opt(u32),
    })
    .map(strip),
  fc.record({
    kind: fc.constant('fib' as const),
    dreg: reg,
    flags: fc.nat(63),
    result: fc.constantFrom(1, 2, 3),
  }),
  fc.record({ kind: fc.constant('reject' as const), type: fc.constantFrom(0, 1, 2), code: fc.nat(255) }),
  fc
    .record({
      kind: fc.constant('dynset' as const),
      op: fc.constantFrom('add' as const, 'update' as const, 'delete' as const),
      sregKey: reg,
      sregData: opt(reg),
      set: name,
      setId: opt(u32),
      timeout: opt(u64),
    })
    .map(strip),
  fc
    .record({
      kind: fc.constant('log' as const),
      prefix: opt(name),
      group: opt(fc.nat(0xffff)),
      level: opt(fc.nat(8)),
      flags: opt(fc.nat(0xff)),
    })
    .map(strip),
  fc.record({
    kind: fc.constant('limit' as const),
    rate: u64,
    unit: fc.constantFrom(1n, 60n, 3600n),
    burst: u32,
    type: fc.constantFrom(0, 1),
    flags: fc.constantFrom(0, 1),
  }),
  fc.constant({ kind: 'notrack' as const }),
);

describe('expression encoding', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.array(expression, { maxLength: 12 }), (expressions) => {
        expect(decodeExpressions(encodeExpressions(expressions))).toEqual(expressions);
      }),
      { numRuns: 300 },
    );
  });

  it('writes nf_tables integers big-endian inside NFTA_LIST_ELEM nests', () => {
    const bytes = encodeExpressions([{ kind: 'meta', key: 'l4proto', dreg: 1 }]);
    // NFTA_LIST_ELEM | NLA_F_NESTED, then NFTA_EXPR_NAME "meta".
    expect(bytes.readUInt16LE(2)).toBe(0x8001);
    expect(bytes.subarray(8, 13).toString('latin1')).toBe('meta\0');
    // NFTA_META_DREG (1) = 1 and NFTA_META_KEY (2) = NFT_META_L4PROTO (16), big-endian.
    expect(bytes.subarray(bytes.length - 16).toString('hex')).toBe('080001000000000108000200' + '00000010');
  });
});
