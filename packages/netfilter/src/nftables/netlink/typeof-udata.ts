// `typeof` sets and maps: nft keeps the expressions a set was declared with (`ip daddr . meta
// l4proto . th dport . numgen random mod 1`) in its userdata, so a later `nft list` prints them
// and later rules can infer protocol dependencies from them. This writes and reads that record
// the way nft 1.0 lays it out: per expression its type (nft's expr_types) and a nest of its
// parameters (payload: protocol description and field; meta: key; numgen: mode, modulus, offset).

import { InvalidFieldError } from '../../errors';
import type { NftFamily } from '../model';
import { parseSelectorText } from './rule/compile-rule';
import { META_KEYS } from './rule/netlink-constants';
import type { SelectorExpr } from './rule/rule-ast';
import { readUdata, UdataWriter } from './userdata';

/** nft's `enum expr_types` values for the expressions a typeof may hold. */
const EXPR = { VERDICT: 1, PAYLOAD: 7, META: 9, CONCAT: 13, NUMGEN: 23 } as const;

/** nft's `enum proto_desc_id` for the protocols kube-proxy-style typeofs use. */
const PROTO_DESC: Readonly<Record<string, number>> = { udp: 6, tcp: 8, sctp: 10, th: 11, ip: 12, ip6: 13 };
/** Header field indexes in nft's protocol templates. */
const FIELDS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  ip: { protocol: 9, saddr: 11, daddr: 12 },
  ip6: { nexthdr: 6, saddr: 8, daddr: 9 },
  tcp: { sport: 1, dport: 2 },
  udp: { sport: 1, dport: 2 },
  sctp: { sport: 1, dport: 2 },
  th: { sport: 1, dport: 2 },
};
const NUMGEN_MODES: Readonly<Record<string, number>> = { inc: 0, random: 1 };

function unsupported(text: string, why: string): InvalidFieldError {
  return new InvalidFieldError('typeof', text, why);
}

function writeExpression(w: UdataWriter, sel: SelectorExpr, text: string): number {
  switch (sel.t) {
    case 'payload': {
      const desc = PROTO_DESC[sel.proto];
      const field = FIELDS[sel.proto]?.[sel.field];
      if (desc === undefined || field === undefined)
        throw unsupported(
          text,
          `has a header field (${sel.proto} ${sel.field}) the netlink client cannot describe`,
        );
      w.u32(0, desc).u32(1, field);
      return EXPR.PAYLOAD;
    }
    case 'meta': {
      const key = (META_KEYS as readonly string[]).indexOf(sel.key);
      if (key < 0) throw unsupported(text, `has a meta key (${sel.key}) the netlink client cannot describe`);
      w.u32(0, key);
      return EXPR.META;
    }
    case 'numgen':
      w.u32(0, NUMGEN_MODES[sel.type] ?? 0)
        .u32(1, sel.modulus)
        .u32(2, sel.offset ?? 0);
      return EXPR.NUMGEN;
    default:
      throw unsupported(text, `has an expression (${sel.t}) the netlink client cannot describe`);
  }
}

/** The KEY_TYPEOF / DATA_TYPEOF record of a typeof text. */
export function typeofRecord(text: string): (w: UdataWriter) => void {
  const parts = text.split(' . ').map((p) => p.trim());
  const selectors = parts.map((part) => parseSelectorText(part));
  return (w) => {
    if (selectors.length === 1) {
      let etype = 0;
      const data = new UdataWriter();
      etype = writeExpression(data, selectors[0] as SelectorExpr, text);
      w.u32(0, etype).put(1, data.toBuffer());
      return;
    }
    const concat = new UdataWriter();
    selectors.forEach((sel, i) => {
      const data = new UdataWriter();
      const etype = writeExpression(data, sel, text);
      concat.nested(i, (sub) => sub.u32(0, etype).put(1, data.toBuffer()));
    });
    w.u32(0, EXPR.CONCAT).put(1, concat.toBuffer());
  };
}

function u32(value: Buffer | undefined): number | undefined {
  return value && value.length === 4 ? value.readUInt32LE(0) : undefined;
}

function readExpression(etype: number, data: Buffer, family: NftFamily): string | undefined {
  const fields = readUdata(data);
  switch (etype) {
    case EXPR.PAYLOAD: {
      const desc = u32(fields.get(0));
      const field = u32(fields.get(1));
      const proto = Object.entries(PROTO_DESC).find(([, id]) => id === desc)?.[0];
      const name = proto ? Object.entries(FIELDS[proto] ?? {}).find(([, i]) => i === field)?.[0] : undefined;
      return proto && name ? `${proto} ${name}` : undefined;
    }
    case EXPR.META: {
      const key = META_KEYS[u32(fields.get(0)) ?? -1];
      return key ? `meta ${key}` : undefined;
    }
    case EXPR.NUMGEN: {
      const mode = Object.entries(NUMGEN_MODES).find(([, m]) => m === u32(fields.get(0)))?.[0];
      const offset = u32(fields.get(2)) ?? 0;
      return mode
        ? `numgen ${mode} mod ${u32(fields.get(1))}${offset ? ` offset ${offset}` : ''}`
        : undefined;
    }
    default:
      void family;
      return undefined;
  }
}

/** A KEY_TYPEOF / DATA_TYPEOF record back to typeof text; undefined for a plain `type` concatenation. */
export function readTypeofRecord(record: Buffer, family: NftFamily): string | undefined {
  const top = readUdata(record);
  const etype = u32(top.get(0));
  const data = top.get(1);
  if (etype === undefined || data === undefined) return undefined;
  if (etype !== EXPR.CONCAT) return readExpression(etype, data, family);
  const parts: string[] = [];
  for (const [, sub] of [...readUdata(data).entries()].sort(([a], [b]) => a - b)) {
    const fields = readUdata(sub);
    const subType = u32(fields.get(0));
    const subData = fields.get(1);
    if (subType === undefined || subData === undefined) return undefined;
    const part = readExpression(subType, subData, family);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  // `type a . b` sets carry a concat record with no parts.
  return parts.length === 0 ? undefined : parts.join(' . ');
}
