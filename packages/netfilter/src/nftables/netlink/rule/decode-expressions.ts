// The NFTA_RULE_EXPRESSIONS payload → expressions: the reverse of encode-expressions.ts, for
// rules dumped from the kernel and to check what the encoder wrote.

import {
  attributeString,
  attributesByType,
  attributeU8,
  attributeU16,
  attributeU32,
  attributeU64,
  type NetlinkAttribute,
  readAttributes,
} from '../attributes';
import {
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  NFTA_VERDICT_CHAIN,
  NFTA_VERDICT_CODE,
  VERDICT_CODES,
  type Verdict,
  type VerdictKind,
} from '../data-types';
import { NftExpressionDecodeError } from './errors';
import type {
  BitwiseExpr,
  ByteorderExpr,
  CmpExpr,
  CounterExpr,
  CtExpr,
  DynsetExpr,
  FibExpr,
  ImmediateExpr,
  LimitExpr,
  LogExpr,
  LookupExpr,
  MasqExpr,
  MetaExpr,
  NatExpr,
  NftExpression,
  NumgenExpr,
  PayloadExpr,
  RangeExpr,
  RejectExpr,
} from './expressions';
import {
  ATTR,
  BYTEORDER_OPS,
  CMP_OPS,
  CT_KEYS,
  DYNSET_OPS,
  META_KEYS,
  NAT_TYPES,
  NFTA_EXPR_DATA,
  NFTA_EXPR_NAME,
  NUMGEN_TYPES,
  PAYLOAD_BASES,
} from './netlink-constants';

type Attrs = Map<number, NetlinkAttribute>;

function need(name: string, attrs: Attrs, type: number): NetlinkAttribute {
  const a = attrs.get(type);
  if (!a) throw new NftExpressionDecodeError(name, `has no attribute ${type}`);
  return a;
}

function u32(name: string, attrs: Attrs, type: number): number {
  return attributeU32(need(name, attrs, type));
}

function optU32(attrs: Attrs, type: number): number | undefined {
  const a = attrs.get(type);
  return a ? attributeU32(a) : undefined;
}

function pick<T>(name: string, list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new NftExpressionDecodeError(name, `has an unknown enum value ${index}`);
  return item;
}

function dataValue(name: string, attrs: Attrs, type: number): Buffer {
  const inner = attributesByType(need(name, attrs, type).payload).get(NFTA_DATA_VALUE);
  if (!inner) throw new NftExpressionDecodeError(name, `attribute ${type} holds no NFTA_DATA_VALUE`);
  return Buffer.from(inner.payload);
}

const verdictByCode = new Map<number, VerdictKind>(
  Object.entries(VERDICT_CODES).map(([kind, code]) => [code, kind as VerdictKind]),
);

function verdictOf(name: string, payload: Buffer): Verdict {
  const attrs = attributesByType(payload);
  const code = attributeU32(need(name, attrs, NFTA_VERDICT_CODE)) | 0;
  const kind = verdictByCode.get(code);
  if (!kind) throw new NftExpressionDecodeError(name, `has an unknown verdict code ${code}`);
  const chain = attrs.get(NFTA_VERDICT_CHAIN);
  return chain ? { kind, chain: attributeString(chain) } : { kind };
}

/** Reads one expression kind's NFTA_EXPR_DATA attributes (`name` is the kind, for errors). */
type ExpressionDecoder<K extends NftExpression['kind']> = (
  name: string,
  attrs: Attrs,
) => Extract<NftExpression, { kind: K }>;

function decodePayload(name: string, attrs: Attrs): PayloadExpr {
  const a = ATTR.payload;
  return {
    kind: 'payload',
    dreg: u32(name, attrs, a.dreg),
    base: pick(name, PAYLOAD_BASES, u32(name, attrs, a.base)),
    offset: u32(name, attrs, a.offset),
    len: u32(name, attrs, a.len),
  };
}

function decodeMeta(name: string, attrs: Attrs): MetaExpr {
  const a = ATTR.meta;
  const e: MetaExpr = { kind: 'meta', key: pick(name, META_KEYS, u32(name, attrs, a.key)) };
  const dreg = optU32(attrs, a.dreg);
  const sreg = optU32(attrs, a.sreg);
  if (dreg !== undefined) e.dreg = dreg;
  if (sreg !== undefined) e.sreg = sreg;
  return e;
}

function decodeCt(name: string, attrs: Attrs): CtExpr {
  const a = ATTR.ct;
  const e: CtExpr = { kind: 'ct', key: pick(name, CT_KEYS, u32(name, attrs, a.key)) };
  const dreg = optU32(attrs, a.dreg);
  const sreg = optU32(attrs, a.sreg);
  const dir = attrs.get(a.direction);
  if (dreg !== undefined) e.dreg = dreg;
  if (sreg !== undefined) e.sreg = sreg;
  if (dir) e.direction = attributeU8(dir) === 0 ? 'original' : 'reply';
  return e;
}

function decodeCmp(name: string, attrs: Attrs): CmpExpr {
  return {
    kind: 'cmp',
    sreg: u32(name, attrs, ATTR.cmp.sreg),
    op: pick(name, CMP_OPS, u32(name, attrs, ATTR.cmp.op)),
    data: dataValue(name, attrs, ATTR.cmp.data),
  };
}

function decodeRange(name: string, attrs: Attrs): RangeExpr {
  return {
    kind: 'range',
    sreg: u32(name, attrs, ATTR.range.sreg),
    op: u32(name, attrs, ATTR.range.op) === 0 ? 'eq' : 'neq',
    from: dataValue(name, attrs, ATTR.range.from),
    to: dataValue(name, attrs, ATTR.range.to),
  };
}

function decodeBitwise(name: string, attrs: Attrs): BitwiseExpr {
  return {
    kind: 'bitwise',
    sreg: u32(name, attrs, ATTR.bitwise.sreg),
    dreg: u32(name, attrs, ATTR.bitwise.dreg),
    len: u32(name, attrs, ATTR.bitwise.len),
    mask: dataValue(name, attrs, ATTR.bitwise.mask),
    xor: dataValue(name, attrs, ATTR.bitwise.xor),
  };
}

function decodeByteorder(name: string, attrs: Attrs): ByteorderExpr {
  const a = ATTR.byteorder;
  return {
    kind: 'byteorder',
    sreg: u32(name, attrs, a.sreg),
    dreg: u32(name, attrs, a.dreg),
    op: pick(name, BYTEORDER_OPS, u32(name, attrs, a.op)),
    len: u32(name, attrs, a.len),
    size: u32(name, attrs, a.size),
  };
}

function decodeLookup(name: string, attrs: Attrs): LookupExpr {
  const a = ATTR.lookup;
  const e: LookupExpr = {
    kind: 'lookup',
    set: attributeString(need(name, attrs, a.set)),
    sreg: u32(name, attrs, a.sreg),
  };
  const dreg = optU32(attrs, a.dreg);
  const setId = optU32(attrs, a.setId);
  const flags = optU32(attrs, a.flags);
  if (dreg !== undefined) e.dreg = dreg;
  if (setId !== undefined) e.setId = setId;
  if (flags !== undefined) e.flags = flags;
  return e;
}

// The data attribute holds either a verdict (accept, jump <chain>, …) or a plain value.
function decodeImmediate(name: string, attrs: Attrs): ImmediateExpr {
  const dreg = u32(name, attrs, ATTR.immediate.dreg);
  const data = attributesByType(need(name, attrs, ATTR.immediate.data).payload);
  const verdict = data.get(NFTA_DATA_VERDICT);
  if (verdict) return { kind: 'immediate', dreg, verdict: verdictOf(name, verdict.payload) };
  return { kind: 'immediate', dreg, data: dataValue(name, attrs, ATTR.immediate.data) };
}

function decodeNat(name: string, attrs: Attrs): NatExpr {
  const a = ATTR.nat;
  const family = u32(name, attrs, a.family);
  const e: NatExpr = {
    kind: 'nat',
    type: pick(name, NAT_TYPES, u32(name, attrs, a.type)),
    // NFPROTO_IPV6 is 10; any other family reads as ip.
    family: family === 10 ? 'ip6' : 'ip',
  };
  const fields = ['regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax', 'flags'] as const;
  for (const field of fields) {
    const v = optU32(attrs, a[field]);
    if (v !== undefined) e[field] = v;
  }
  return e;
}

function decodeMasq(_name: string, attrs: Attrs): MasqExpr {
  const e: MasqExpr = { kind: 'masq' };
  for (const field of ['flags', 'regProtoMin', 'regProtoMax'] as const) {
    const v = optU32(attrs, ATTR.masq[field]);
    if (v !== undefined) e[field] = v;
  }
  return e;
}

function decodeCounter(name: string, attrs: Attrs): CounterExpr {
  return {
    kind: 'counter',
    bytes: attributeU64(need(name, attrs, ATTR.counter.bytes)),
    packets: attributeU64(need(name, attrs, ATTR.counter.packets)),
  };
}

function decodeNumgen(name: string, attrs: Attrs): NumgenExpr {
  const e: NumgenExpr = {
    kind: 'numgen',
    dreg: u32(name, attrs, ATTR.numgen.dreg),
    modulus: u32(name, attrs, ATTR.numgen.modulus),
    type: pick(name, NUMGEN_TYPES, u32(name, attrs, ATTR.numgen.type)),
  };
  const offset = optU32(attrs, ATTR.numgen.offset);
  if (offset !== undefined) e.offset = offset;
  return e;
}

function decodeFib(name: string, attrs: Attrs): FibExpr {
  return {
    kind: 'fib',
    dreg: u32(name, attrs, ATTR.fib.dreg),
    result: u32(name, attrs, ATTR.fib.result),
    flags: u32(name, attrs, ATTR.fib.flags),
  };
}

// A tcp reset carries no NFTA_REJECT_ICMP_CODE (the kernel dumps it for the ICMP types only).
function decodeReject(name: string, attrs: Attrs): RejectExpr {
  const code = attrs.get(ATTR.reject.code);
  return { kind: 'reject', type: u32(name, attrs, ATTR.reject.type), code: code ? attributeU8(code) : 0 };
}

function decodeDynset(name: string, attrs: Attrs): DynsetExpr {
  const a = ATTR.dynset;
  const e: DynsetExpr = {
    kind: 'dynset',
    set: attributeString(need(name, attrs, a.setName)),
    op: pick(name, DYNSET_OPS, u32(name, attrs, a.op)),
    sregKey: u32(name, attrs, a.sregKey),
  };
  const setId = optU32(attrs, a.setId);
  const sregData = optU32(attrs, a.sregData);
  const timeout = attrs.get(a.timeout);
  if (setId !== undefined) e.setId = setId;
  if (sregData !== undefined) e.sregData = sregData;
  if (timeout) e.timeout = attributeU64(timeout);
  return e;
}

function decodeLog(_name: string, attrs: Attrs): LogExpr {
  const e: LogExpr = { kind: 'log' };
  const prefix = attrs.get(ATTR.log.prefix);
  const group = attrs.get(ATTR.log.group);
  const level = optU32(attrs, ATTR.log.level);
  const flags = optU32(attrs, ATTR.log.flags);
  if (prefix) e.prefix = attributeString(prefix);
  if (group) e.group = attributeU16(group);
  if (level !== undefined) e.level = level;
  if (flags !== undefined) e.flags = flags;
  return e;
}

function decodeLimit(name: string, attrs: Attrs): LimitExpr {
  const a = ATTR.limit;
  return {
    kind: 'limit',
    rate: attributeU64(need(name, attrs, a.rate)),
    unit: attributeU64(need(name, attrs, a.unit)),
    burst: u32(name, attrs, a.burst),
    type: u32(name, attrs, a.type),
    flags: u32(name, attrs, a.flags),
  };
}

// One decoder per expression kind; the mapped type makes a new kind in NftExpression a compile
// error here until it has a decoder.
const DECODERS: { [K in NftExpression['kind']]: ExpressionDecoder<K> } = {
  payload: decodePayload,
  meta: decodeMeta,
  ct: decodeCt,
  cmp: decodeCmp,
  range: decodeRange,
  bitwise: decodeBitwise,
  byteorder: decodeByteorder,
  lookup: decodeLookup,
  immediate: decodeImmediate,
  nat: decodeNat,
  masq: decodeMasq,
  counter: decodeCounter,
  numgen: decodeNumgen,
  fib: decodeFib,
  reject: decodeReject,
  dynset: decodeDynset,
  log: decodeLog,
  limit: decodeLimit,
  notrack: () => ({ kind: 'notrack' }),
};

function decodeOne(name: string, attrs: Attrs): NftExpression {
  // Own keys only: a kernel name such as "constructor" must not reach Object.prototype.
  if (!Object.hasOwn(DECODERS, name))
    throw new NftExpressionDecodeError(name, 'is not an expression this library reads');
  return DECODERS[name as NftExpression['kind']](name, attrs);
}

/** Decode an NFTA_RULE_EXPRESSIONS payload. */
export function decodeExpressions(payload: Buffer): NftExpression[] {
  return readAttributes(payload).map((elem) => {
    const attrs = attributesByType(elem.payload);
    const nameAttr = attrs.get(NFTA_EXPR_NAME);
    if (!nameAttr) throw new NftExpressionDecodeError('(unnamed)', 'has no NFTA_EXPR_NAME');
    const name = attributeString(nameAttr);
    const data = attrs.get(NFTA_EXPR_DATA);
    return decodeOne(name, data ? attributesByType(data.payload) : new Map());
  });
}
