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
import type { NftExpression } from './expressions';
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

function decodeOne(name: string, attrs: Attrs): NftExpression {
  switch (name) {
    case 'payload': {
      const a = ATTR.payload;
      return {
        kind: 'payload',
        dreg: u32(name, attrs, a.dreg),
        base: pick(name, PAYLOAD_BASES, u32(name, attrs, a.base)),
        offset: u32(name, attrs, a.offset),
        len: u32(name, attrs, a.len),
      };
    }
    case 'meta': {
      const a = ATTR.meta;
      const e: NftExpression = { kind: 'meta', key: pick(name, META_KEYS, u32(name, attrs, a.key)) };
      const dreg = optU32(attrs, a.dreg);
      const sreg = optU32(attrs, a.sreg);
      if (dreg !== undefined) e.dreg = dreg;
      if (sreg !== undefined) e.sreg = sreg;
      return e;
    }
    case 'ct': {
      const a = ATTR.ct;
      const e: NftExpression = { kind: 'ct', key: pick(name, CT_KEYS, u32(name, attrs, a.key)) };
      const dreg = optU32(attrs, a.dreg);
      const sreg = optU32(attrs, a.sreg);
      const dir = attrs.get(a.direction);
      if (dreg !== undefined) e.dreg = dreg;
      if (sreg !== undefined) e.sreg = sreg;
      if (dir) e.direction = attributeU8(dir) === 0 ? 'original' : 'reply';
      return e;
    }
    case 'cmp':
      return {
        kind: 'cmp',
        sreg: u32(name, attrs, ATTR.cmp.sreg),
        op: pick(name, CMP_OPS, u32(name, attrs, ATTR.cmp.op)),
        data: dataValue(name, attrs, ATTR.cmp.data),
      };
    case 'range':
      return {
        kind: 'range',
        sreg: u32(name, attrs, ATTR.range.sreg),
        op: u32(name, attrs, ATTR.range.op) === 0 ? 'eq' : 'neq',
        from: dataValue(name, attrs, ATTR.range.from),
        to: dataValue(name, attrs, ATTR.range.to),
      };
    case 'bitwise':
      return {
        kind: 'bitwise',
        sreg: u32(name, attrs, ATTR.bitwise.sreg),
        dreg: u32(name, attrs, ATTR.bitwise.dreg),
        len: u32(name, attrs, ATTR.bitwise.len),
        mask: dataValue(name, attrs, ATTR.bitwise.mask),
        xor: dataValue(name, attrs, ATTR.bitwise.xor),
      };
    case 'byteorder': {
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
    case 'lookup': {
      const a = ATTR.lookup;
      const e: NftExpression = {
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
    case 'immediate': {
      const dreg = u32(name, attrs, ATTR.immediate.dreg);
      const data = attributesByType(need(name, attrs, ATTR.immediate.data).payload);
      const verdict = data.get(NFTA_DATA_VERDICT);
      if (verdict) return { kind: 'immediate', dreg, verdict: verdictOf(name, verdict.payload) };
      return { kind: 'immediate', dreg, data: dataValue(name, attrs, ATTR.immediate.data) };
    }
    case 'nat': {
      const a = ATTR.nat;
      const family = u32(name, attrs, a.family);
      const e: NftExpression = {
        kind: 'nat',
        type: pick(name, NAT_TYPES, u32(name, attrs, a.type)),
        family: family === 10 ? 'ip6' : 'ip',
      };
      const fields = ['regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax', 'flags'] as const;
      for (const field of fields) {
        const v = optU32(attrs, a[field]);
        if (v !== undefined) e[field] = v;
      }
      return e;
    }
    case 'masq': {
      const e: NftExpression = { kind: 'masq' };
      for (const field of ['flags', 'regProtoMin', 'regProtoMax'] as const) {
        const v = optU32(attrs, ATTR.masq[field]);
        if (v !== undefined) e[field] = v;
      }
      return e;
    }
    case 'counter':
      return {
        kind: 'counter',
        bytes: attributeU64(need(name, attrs, ATTR.counter.bytes)),
        packets: attributeU64(need(name, attrs, ATTR.counter.packets)),
      };
    case 'numgen': {
      const e: NftExpression = {
        kind: 'numgen',
        dreg: u32(name, attrs, ATTR.numgen.dreg),
        modulus: u32(name, attrs, ATTR.numgen.modulus),
        type: pick(name, NUMGEN_TYPES, u32(name, attrs, ATTR.numgen.type)),
      };
      const offset = optU32(attrs, ATTR.numgen.offset);
      if (offset !== undefined) e.offset = offset;
      return e;
    }
    case 'fib':
      return {
        kind: 'fib',
        dreg: u32(name, attrs, ATTR.fib.dreg),
        result: u32(name, attrs, ATTR.fib.result),
        flags: u32(name, attrs, ATTR.fib.flags),
      };
    case 'reject': {
      const code = attrs.get(ATTR.reject.code);
      return { kind: 'reject', type: u32(name, attrs, ATTR.reject.type), code: code ? attributeU8(code) : 0 };
    }
    case 'dynset': {
      const a = ATTR.dynset;
      const e: NftExpression = {
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
    case 'log': {
      const e: NftExpression = { kind: 'log' };
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
    case 'limit': {
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
    case 'notrack':
      return { kind: 'notrack' };
    default:
      throw new NftExpressionDecodeError(name, 'is not an expression this library reads');
  }
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
