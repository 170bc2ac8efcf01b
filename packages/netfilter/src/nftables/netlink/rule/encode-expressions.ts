// Expressions → the NFTA_RULE_EXPRESSIONS payload: one NFTA_LIST_ELEM nest per expression,
// holding NFTA_EXPR_NAME and the expression's attributes in NFTA_EXPR_DATA. Integers are
// big-endian as nf_tables reads them; data operands sit in NFTA_DATA_VALUE / NFTA_DATA_VERDICT.

import { AttributeWriter } from '../attributes';
import { encodeVerdict, NFTA_DATA_VALUE, NFTA_DATA_VERDICT } from '../data-types';
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
  NFTA_LIST_ELEM,
  NUMGEN_TYPES,
  PAYLOAD_BASES,
} from './netlink-constants';

const NFPROTO = { ip: 2, ip6: 10 } as const;

function value(w: AttributeWriter, type: number, data: Buffer): void {
  w.nested(type, (d) => d.bytes(NFTA_DATA_VALUE, data));
}

function indexOf<T>(list: readonly T[], item: T): number {
  return list.indexOf(item);
}

function optionalU32(w: AttributeWriter, type: number, v: number | undefined): void {
  if (v !== undefined) w.u32(type, v);
}

function writeData(w: AttributeWriter, e: NftExpression): void {
  switch (e.kind) {
    case 'payload': {
      const a = ATTR.payload;
      w.u32(a.dreg, e.dreg)
        .u32(a.base, indexOf(PAYLOAD_BASES, e.base))
        .u32(a.offset, e.offset)
        .u32(a.len, e.len);
      return;
    }
    case 'meta': {
      const a = ATTR.meta;
      if (e.dreg !== undefined) w.u32(a.dreg, e.dreg);
      w.u32(a.key, indexOf(META_KEYS as readonly string[], e.key));
      if (e.sreg !== undefined) w.u32(a.sreg, e.sreg);
      return;
    }
    case 'ct': {
      const a = ATTR.ct;
      if (e.dreg !== undefined) w.u32(a.dreg, e.dreg);
      w.u32(a.key, indexOf(CT_KEYS as readonly string[], e.key));
      if (e.direction !== undefined) w.u8(a.direction, e.direction === 'original' ? 0 : 1);
      if (e.sreg !== undefined) w.u32(a.sreg, e.sreg);
      return;
    }
    case 'cmp':
      w.u32(ATTR.cmp.sreg, e.sreg).u32(ATTR.cmp.op, indexOf(CMP_OPS, e.op));
      value(w, ATTR.cmp.data, e.data);
      return;
    case 'range':
      w.u32(ATTR.range.sreg, e.sreg).u32(ATTR.range.op, e.op === 'eq' ? 0 : 1);
      value(w, ATTR.range.from, e.from);
      value(w, ATTR.range.to, e.to);
      return;
    case 'bitwise':
      w.u32(ATTR.bitwise.sreg, e.sreg).u32(ATTR.bitwise.dreg, e.dreg).u32(ATTR.bitwise.len, e.len);
      value(w, ATTR.bitwise.mask, e.mask);
      value(w, ATTR.bitwise.xor, e.xor);
      return;
    case 'byteorder': {
      const a = ATTR.byteorder;
      w.u32(a.sreg, e.sreg).u32(a.dreg, e.dreg).u32(a.op, indexOf(BYTEORDER_OPS, e.op)).u32(a.len, e.len);
      w.u32(a.size, e.size);
      return;
    }
    case 'lookup': {
      const a = ATTR.lookup;
      w.string(a.set, e.set).u32(a.sreg, e.sreg);
      optionalU32(w, a.dreg, e.dreg);
      optionalU32(w, a.setId, e.setId);
      optionalU32(w, a.flags, e.flags);
      return;
    }
    case 'immediate':
      w.u32(ATTR.immediate.dreg, e.dreg);
      if (e.verdict) {
        const verdict = e.verdict;
        w.nested(ATTR.immediate.data, (d) => d.nestedBytes(NFTA_DATA_VERDICT, encodeVerdict(verdict)));
      } else value(w, ATTR.immediate.data, e.data ?? Buffer.alloc(0));
      return;
    case 'nat': {
      const a = ATTR.nat;
      w.u32(a.type, indexOf(NAT_TYPES, e.type)).u32(a.family, NFPROTO[e.family]);
      optionalU32(w, a.regAddrMin, e.regAddrMin);
      optionalU32(w, a.regAddrMax, e.regAddrMax);
      optionalU32(w, a.regProtoMin, e.regProtoMin);
      optionalU32(w, a.regProtoMax, e.regProtoMax);
      optionalU32(w, a.flags, e.flags);
      return;
    }
    case 'masq':
      optionalU32(w, ATTR.masq.flags, e.flags);
      optionalU32(w, ATTR.masq.regProtoMin, e.regProtoMin);
      optionalU32(w, ATTR.masq.regProtoMax, e.regProtoMax);
      return;
    case 'counter':
      w.u64(ATTR.counter.bytes, e.bytes).u64(ATTR.counter.packets, e.packets);
      return;
    case 'numgen':
      w.u32(ATTR.numgen.dreg, e.dreg).u32(ATTR.numgen.modulus, e.modulus);
      w.u32(ATTR.numgen.type, indexOf(NUMGEN_TYPES, e.type));
      optionalU32(w, ATTR.numgen.offset, e.offset);
      return;
    case 'fib':
      w.u32(ATTR.fib.dreg, e.dreg).u32(ATTR.fib.result, e.result).u32(ATTR.fib.flags, e.flags);
      return;
    case 'reject':
      w.u32(ATTR.reject.type, e.type).u8(ATTR.reject.code, e.code);
      return;
    case 'dynset': {
      const a = ATTR.dynset;
      w.string(a.setName, e.set);
      optionalU32(w, a.setId, e.setId);
      w.u32(a.op, indexOf(DYNSET_OPS, e.op)).u32(a.sregKey, e.sregKey);
      optionalU32(w, a.sregData, e.sregData);
      if (e.timeout !== undefined) w.u64(a.timeout, e.timeout);
      return;
    }
    case 'log':
      if (e.prefix !== undefined) w.string(ATTR.log.prefix, e.prefix);
      if (e.group !== undefined) w.u16(ATTR.log.group, e.group);
      optionalU32(w, ATTR.log.level, e.level);
      optionalU32(w, ATTR.log.flags, e.flags);
      return;
    case 'limit': {
      const a = ATTR.limit;
      w.u64(a.rate, e.rate)
        .u64(a.unit, e.unit)
        .u32(a.burst, e.burst)
        .u32(a.type, e.type)
        .u32(a.flags, e.flags);
      return;
    }
    case 'notrack':
      return;
  }
}

/** The NFTA_EXPR_NAME of an expression. */
function expressionName(e: NftExpression): string {
  return e.kind;
}

/** One expression as an NFTA_LIST_ELEM nest. */
export function encodeExpression(w: AttributeWriter, e: NftExpression): void {
  w.nested(NFTA_LIST_ELEM, (elem) => {
    elem.string(NFTA_EXPR_NAME, expressionName(e));
    const data = new AttributeWriter();
    writeData(data, e);
    if (data.length > 0 || e.kind !== 'notrack') elem.nestedBytes(NFTA_EXPR_DATA, data.toBuffer());
  });
}

/** The NFTA_RULE_EXPRESSIONS payload of a rule. */
export function encodeExpressions(expressions: readonly NftExpression[]): Buffer {
  const w = new AttributeWriter();
  for (const e of expressions) encodeExpression(w, e);
  return w.toBuffer();
}
