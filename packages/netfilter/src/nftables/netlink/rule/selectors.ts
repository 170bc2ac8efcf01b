// Selectors (what a rule reads: payload fields, meta and ct keys, fib, numgen, concatenations):
// their nft data type and length, the protocol match nft puts before them, and the expressions
// that load them into registers.

import type { NftFamily } from '../../model';
import { concatPartLength, encodeDataValue, readHostU32 } from '../data-types';
import type { NftExpression } from './expressions';
import { FIB_FLAGS } from './netlink-constants';
import { registerNumber, SLOTS_PER_REGISTER, slotsFor } from './registers';
import type { PayloadProto, SelectorExpr } from './rule-ast';

export interface SelectorType {
  /** nft data type name (`.`-joined for concatenations). */
  type: string;
  /** Length in bytes (concatenation parts 4-byte aligned). */
  length: number;
  /** Integers nft keeps in host byte order (mark, ct state, numgen…), compared via byteorder. */
  hostOrder: boolean;
}

/** A protocol the selector needs matched first (nft's payload dependency). */
export interface SelectorDependency {
  key: 'l4proto' | 'nfproto';
  value: string;
}

/** Thrown for a selector the compiler does not know; the caller turns it into a syntax error. */
export class UnknownSelectorError extends Error {
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what}: ${reason}`);
  }
}

interface PayloadField {
  base: 'network' | 'transport';
  offset: number;
  length: number;
  type: string;
}

const PAYLOAD_FIELDS: Readonly<Record<string, Readonly<Record<string, PayloadField>>>> = {
  ip: {
    saddr: { base: 'network', offset: 12, length: 4, type: 'ipv4_addr' },
    daddr: { base: 'network', offset: 16, length: 4, type: 'ipv4_addr' },
    protocol: { base: 'network', offset: 9, length: 1, type: 'inet_proto' },
  },
  ip6: {
    saddr: { base: 'network', offset: 8, length: 16, type: 'ipv6_addr' },
    daddr: { base: 'network', offset: 24, length: 16, type: 'ipv6_addr' },
    nexthdr: { base: 'network', offset: 6, length: 1, type: 'inet_proto' },
  },
};
const PORT_FIELDS: Readonly<Record<string, PayloadField>> = {
  sport: { base: 'transport', offset: 0, length: 2, type: 'inet_service' },
  dport: { base: 'transport', offset: 2, length: 2, type: 'inet_service' },
};

interface KeyInfo {
  key: string;
  type: string;
  length: number;
  hostOrder: boolean;
}

/** nft meta key → kernel key, type, length. */
const META: Readonly<Record<string, KeyInfo>> = {
  l4proto: { key: 'l4proto', type: 'inet_proto', length: 1, hostOrder: false },
  nfproto: { key: 'nfproto', type: 'nf_proto', length: 1, hostOrder: false },
  mark: { key: 'mark', type: 'mark', length: 4, hostOrder: true },
  iifname: { key: 'iifname', type: 'ifname', length: 16, hostOrder: false },
  oifname: { key: 'oifname', type: 'ifname', length: 16, hostOrder: false },
  iif: { key: 'iif', type: 'iface_index', length: 4, hostOrder: true },
  oif: { key: 'oif', type: 'iface_index', length: 4, hostOrder: true },
  skuid: { key: 'skuid', type: 'integer', length: 4, hostOrder: true },
  skgid: { key: 'skgid', type: 'integer', length: 4, hostOrder: true },
  pkttype: { key: 'pkttype', type: 'pkt_type', length: 1, hostOrder: false },
  cpu: { key: 'cpu', type: 'integer', length: 4, hostOrder: true },
};

const CT: Readonly<Record<string, KeyInfo>> = {
  state: { key: 'state', type: 'ct_state', length: 4, hostOrder: true },
  status: { key: 'status', type: 'ct_status', length: 4, hostOrder: true },
  mark: { key: 'mark', type: 'mark', length: 4, hostOrder: true },
  direction: { key: 'direction', type: 'ct_dir', length: 1, hostOrder: false },
  l3proto: { key: 'l3protocol', type: 'nf_proto', length: 1, hostOrder: false },
  protocol: { key: 'protocol', type: 'inet_proto', length: 1, hostOrder: false },
  'proto-src': { key: 'proto_src', type: 'inet_service', length: 2, hostOrder: false },
  'proto-dst': { key: 'proto_dst', type: 'inet_service', length: 2, hostOrder: false },
};

const FIB_RESULTS: Readonly<
  Record<string, { result: number; type: string; length: number; hostOrder: boolean }>
> = {
  type: { result: 3, type: 'fib_addrtype', length: 4, hostOrder: true },
  oif: { result: 1, type: 'iface_index', length: 4, hostOrder: true },
  oifname: { result: 2, type: 'ifname', length: 16, hostOrder: false },
};

export function payloadField(proto: PayloadProto, field: string): PayloadField {
  const table = proto === 'ip' || proto === 'ip6' ? PAYLOAD_FIELDS[proto] : PORT_FIELDS;
  const f = table?.[field];
  if (!f)
    throw new UnknownSelectorError(`${proto} ${field}`, `is not a ${proto} header field this compiler knows`);
  return f;
}

function ctInfo(sel: SelectorExpr & { t: 'ct' }, family: NftFamily): KeyInfo {
  if (sel.key === 'saddr' || sel.key === 'daddr') {
    const proto = sel.proto ?? (family === 'ip' || family === 'ip6' ? family : undefined);
    if (!proto) throw new UnknownSelectorError(`ct ${sel.key}`, 'needs ip or ip6 in this family');
    if (!sel.dir) throw new UnknownSelectorError(`ct ${sel.key}`, 'needs a direction (original or reply)');
    const v6 = proto === 'ip6';
    const which = sel.key === 'saddr' ? 'src' : 'dst';
    if (sel.proto)
      return {
        key: `${which}_${v6 ? 'ip6' : 'ip'}`,
        type: v6 ? 'ipv6_addr' : 'ipv4_addr',
        length: v6 ? 16 : 4,
        hostOrder: false,
      };
    return { key: which, type: v6 ? 'ipv6_addr' : 'ipv4_addr', length: v6 ? 16 : 4, hostOrder: false };
  }
  const info = CT[sel.key];
  if (!info) throw new UnknownSelectorError(`ct ${sel.key}`, 'is not a ct key this compiler knows');
  return info;
}

function metaInfo(key: string): KeyInfo {
  const info = META[key];
  if (!info) throw new UnknownSelectorError(`meta ${key}`, 'is not a meta key this compiler knows');
  return info;
}

/** Data type and length of a selector. */
export function selectorType(sel: SelectorExpr, family: NftFamily): SelectorType {
  switch (sel.t) {
    case 'payload': {
      const f = payloadField(sel.proto, sel.field);
      return { type: f.type, length: f.length, hostOrder: false };
    }
    case 'meta': {
      const m = metaInfo(sel.key);
      return { type: m.type, length: m.length, hostOrder: m.hostOrder };
    }
    case 'ct': {
      const c = ctInfo(sel, family);
      return { type: c.type, length: c.length, hostOrder: c.hostOrder };
    }
    case 'fib': {
      const r = FIB_RESULTS[sel.result];
      if (!r) throw new UnknownSelectorError(`fib ${sel.result}`, 'is not a fib result (type, oif, oifname)');
      return { type: r.type, length: r.length, hostOrder: r.hostOrder };
    }
    case 'numgen':
      return { type: 'integer', length: 4, hostOrder: true };
    case 'binop':
      return selectorType(sel.left, family);
    case 'concat': {
      const parts = sel.parts.map((p) => selectorType(p, family));
      return {
        type: parts.map((p) => p.type).join(' . '),
        length: parts.reduce((sum, p) => sum + concatPartLength(p.length), 0),
        hostOrder: false,
      };
    }
  }
}

/** The protocol matches nft inserts before a statement using this selector. */
export function selectorDependencies(sel: SelectorExpr, family: NftFamily): SelectorDependency[] {
  switch (sel.t) {
    case 'payload':
      if (sel.proto === 'tcp' || sel.proto === 'udp' || sel.proto === 'sctp')
        return [{ key: 'l4proto', value: sel.proto }];
      if ((sel.proto === 'ip' || sel.proto === 'ip6') && family === 'inet')
        return [{ key: 'nfproto', value: sel.proto === 'ip' ? 'ipv4' : 'ipv6' }];
      if ((sel.proto === 'ip' && family === 'ip6') || (sel.proto === 'ip6' && family === 'ip'))
        throw new UnknownSelectorError(`${sel.proto} ${sel.field}`, `cannot match in an ${family} table`);
      return [];
    case 'binop':
      return selectorDependencies(sel.left, family);
    case 'concat':
      return sel.parts.flatMap((p) => selectorDependencies(p, family));
    default:
      return [];
  }
}

/** Slots `get_register` gives the selector: a whole register, or a concatenation's own length. */
export function selectorSlots(sel: SelectorExpr, family: NftFamily): number {
  return sel.t === 'concat' ? slotsFor(selectorType(sel, family).length) : SLOTS_PER_REGISTER;
}

function bitwiseFor(op: 'and' | 'or' | 'xor', value: Buffer): { mask: Buffer; xor: Buffer } {
  const ones = Buffer.alloc(value.length, 0xff);
  if (op === 'and') return { mask: value, xor: Buffer.alloc(value.length) };
  if (op === 'xor') return { mask: ones, xor: value };
  return { mask: Buffer.from(value.map((b) => ~b & 0xff)), xor: value };
}

/** Expressions loading `sel` into `slot` (and the following slots for a concatenation). */
export function loadSelector(sel: SelectorExpr, family: NftFamily, slot: number, out: NftExpression[]): void {
  const dreg = registerNumber(slot);
  switch (sel.t) {
    case 'payload': {
      const f = payloadField(sel.proto, sel.field);
      out.push({ kind: 'payload', base: f.base, offset: f.offset, len: f.length, dreg });
      return;
    }
    case 'meta':
      out.push({ kind: 'meta', key: metaInfo(sel.key).key, dreg });
      return;
    case 'ct': {
      const c = ctInfo(sel, family);
      out.push({ kind: 'ct', key: c.key, dreg, ...(sel.dir ? { direction: sel.dir } : {}) });
      return;
    }
    case 'fib': {
      let flags = 0;
      for (const name of sel.flags) {
        const bit = FIB_FLAGS.find(([, n]) => n === name)?.[0];
        if (bit === undefined)
          throw new UnknownSelectorError(`fib ${name}`, 'is not a fib key (saddr, daddr, mark, iif, oif)');
        flags |= bit;
      }
      const r = FIB_RESULTS[sel.result];
      if (!r) throw new UnknownSelectorError(`fib ${sel.result}`, 'is not a fib result (type, oif, oifname)');
      out.push({ kind: 'fib', dreg, flags, result: r.result });
      return;
    }
    case 'numgen':
      out.push({
        kind: 'numgen',
        dreg,
        type: sel.type,
        modulus: sel.modulus,
        ...(sel.offset !== undefined ? { offset: sel.offset } : {}),
      });
      return;
    case 'binop': {
      loadSelector(sel.left, family, slot, out);
      const t = selectorType(sel.left, family);
      const value = encodeDataValue(t.type, sel.right);
      const { mask, xor } = bitwiseFor(sel.op, value);
      out.push({ kind: 'bitwise', sreg: dreg, dreg, len: t.length, mask, xor });
      return;
    }
    case 'concat': {
      let at = slot;
      for (const part of sel.parts) {
        loadSelector(part, family, at, out);
        at += slotsFor(selectorType(part, family).length);
      }
      return;
    }
  }
}

/** Big-endian form of a host-order 32-bit operand (what nft compares after its byteorder hton). */
export function networkOrder(hostValue: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(readHostU32(hostValue, 0), 0);
  return b;
}
