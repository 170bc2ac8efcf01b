// Expressions printed exactly as `nft --debug=netlink` prints a rule's bytecode (libnftnl's
// expression printers): `[ payload load 4b @ network header + 16 => reg 1 ]`. Tests compare this
// text with nft's own output for the same rule, which makes nft the oracle of the compiler.

import { attributeString, attributesByType, attributeU32, type NetlinkAttribute } from '../attributes';
import {
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  NFTA_VERDICT_CHAIN,
  NFTA_VERDICT_CODE,
  readHostU32,
  VERDICT_CODES,
  type Verdict,
} from '../data-types';
import type { NftExpression } from './expressions';
import { FIB_F_PRESENT, FIB_FLAGS, FIB_RESULTS, LIMIT_UNITS } from './netlink-constants';
import type { AnonymousSet } from './types';

/** Register data as libnftnl prints it: host-order 32-bit words, `0x%.8x ` each. */
export function dataWords(data: Buffer): string[] {
  const words = Math.ceil(data.length / 4);
  const padded = Buffer.alloc(words * 4);
  data.copy(padded);
  const out: string[] = [];
  for (let i = 0; i < words; i++)
    out.push(
      `0x${readHostU32(padded, i * 4)
        .toString(16)
        .padStart(8, '0')}`,
    );
  return out;
}

/** Element keys and values print without the 0x. */
export function elementWords(data: Buffer): string[] {
  return dataWords(data).map((w) => w.slice(2));
}

export function verdictText(verdict: Verdict): string[] {
  return verdict.chain === undefined ? [verdict.kind] : [verdict.kind, '->', verdict.chain];
}

function body(e: NftExpression): string[] {
  switch (e.kind) {
    case 'payload':
      return ['load', `${e.len}b`, '@', e.base, 'header', '+', `${e.offset}`, '=>', 'reg', `${e.dreg}`];
    case 'meta':
      return e.sreg !== undefined
        ? ['set', e.key, 'with', 'reg', `${e.sreg}`]
        : ['load', e.key, '=>', 'reg', `${e.dreg}`];
    case 'ct': {
      const out =
        e.sreg !== undefined
          ? ['set', e.key, 'with', 'reg', `${e.sreg}`]
          : ['load', e.key, '=>', 'reg', `${e.dreg}`];
      if (e.direction !== undefined) out.push(',', 'dir', e.direction);
      return out;
    }
    case 'cmp':
      return [e.op, 'reg', `${e.sreg}`, ...dataWords(e.data)];
    case 'range':
      return [e.op, 'reg', `${e.sreg}`, ...dataWords(e.from), ...dataWords(e.to)];
    case 'bitwise':
      return [
        'reg',
        `${e.dreg}`,
        '=',
        '(',
        'reg',
        `${e.sreg}`,
        '&',
        ...dataWords(e.mask),
        ')',
        '^',
        ...dataWords(e.xor),
      ];
    case 'byteorder':
      return ['reg', `${e.dreg}`, '=', `${e.op}(reg`, `${e.sreg},`, `${e.size},`, `${e.len})`];
    case 'lookup': {
      const out = ['reg', `${e.sreg}`, 'set', e.set];
      if (e.dreg !== undefined) out.push('dreg', `${e.dreg}`);
      if (e.flags !== undefined) out.push(`0x${e.flags.toString(16)}`);
      return out;
    }
    case 'immediate':
      return [
        'reg',
        `${e.dreg}`,
        ...(e.verdict ? verdictText(e.verdict) : dataWords(e.data ?? Buffer.alloc(0))),
      ];
    case 'nat': {
      const out: string[] = [e.type, e.family];
      if (e.regAddrMin !== undefined) out.push('addr_min', 'reg', `${e.regAddrMin}`);
      if (e.regAddrMax !== undefined) out.push('addr_max', 'reg', `${e.regAddrMax}`);
      if (e.regProtoMin !== undefined) out.push('proto_min', 'reg', `${e.regProtoMin}`);
      if (e.regProtoMax !== undefined) out.push('proto_max', 'reg', `${e.regProtoMax}`);
      if (e.flags !== undefined) out.push('flags', `0x${e.flags.toString(16)}`);
      return out;
    }
    case 'masq': {
      const out: string[] = [];
      if (e.regProtoMin !== undefined) out.push('proto_min', 'reg', `${e.regProtoMin}`);
      if (e.regProtoMax !== undefined) out.push('proto_max', 'reg', `${e.regProtoMax}`);
      if (e.flags !== undefined) out.push('flags', `0x${e.flags.toString(16)}`);
      return out;
    }
    case 'counter':
      return ['pkts', `${e.packets}`, 'bytes', `${e.bytes}`];
    case 'numgen': {
      const out = ['reg', `${e.dreg}`, '=', e.type, 'mod', `${e.modulus}`];
      if (e.offset) out.push('offset', `${e.offset}`);
      return out;
    }
    case 'fib': {
      const out: string[] = [];
      let flags = e.flags & ~FIB_F_PRESENT;
      for (const [bit, name] of FIB_FLAGS) {
        if ((flags & bit) === 0) continue;
        out.push(name);
        flags &= ~bit;
        if (flags) out.push('.');
      }
      const result = FIB_RESULTS[e.result] ?? 'unknown';
      out.push(`${result}${e.flags & FIB_F_PRESENT ? ' present' : ''}`, '=>', 'reg', `${e.dreg}`);
      return out;
    }
    case 'reject':
      return ['type', `${e.type}`, 'code', `${e.code}`];
    case 'dynset': {
      const out = [e.op, 'reg_key', `${e.sregKey}`, 'set', e.set];
      if (e.sregData !== undefined) out.push('sreg_data', `${e.sregData}`);
      if (e.timeout !== undefined) out.push(`timeout ${e.timeout}ms`);
      return out;
    }
    case 'log': {
      const out: string[] = [];
      if (e.prefix !== undefined) out.push('prefix', e.prefix);
      if (e.group !== undefined) out.push('group', `${e.group}`, 'snaplen', '0', 'qthreshold', '0');
      else {
        if (e.level !== undefined) out.push('level', `${e.level}`);
        if (e.flags !== undefined) out.push('flags', `${e.flags}`);
      }
      return out;
    }
    case 'limit':
      return [
        'rate',
        `${e.rate}/${LIMIT_UNITS[`${e.unit}`] ?? 'error'}`,
        'burst',
        `${e.burst}`,
        'type',
        e.type === 0 ? 'packets' : 'bytes',
        'flags',
        `0x${e.flags.toString(16)}`,
      ];
    case 'notrack':
      return [];
  }
}

/** One expression line as nft prints it, with its two-space indent: `  [ cmp eq reg 1 0x0000000a ]`. */
export function debugLine(e: NftExpression): string {
  return `  [ ${e.kind} ${body(e)
    .map((t) => `${t} `)
    .join('')}]`;
}

/** A rule's expression lines. */
export function debugLines(expressions: readonly NftExpression[]): string[] {
  return expressions.map(debugLine);
}

const NFT_SET_ANONYMOUS = 0x1;
const NFT_SET_CONSTANT = 0x2;
const NFT_SET_ELEM_INTERVAL_END = 0x1;

/** Userdata bytes as libnftnl prints them: printable ASCII as is, the rest as \\xNN. */
export function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes)
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

function elementValueText(payload: Buffer): string {
  const attrs = attributesByType(payload);
  const verdict = attrs.get(NFTA_DATA_VERDICT);
  if (verdict) {
    const inner = attributesByType(verdict.payload);
    const code = attributeU32(inner.get(NFTA_VERDICT_CODE) as NetlinkAttribute) | 0;
    const kind = (Object.keys(VERDICT_CODES) as (keyof typeof VERDICT_CODES)[]).find(
      (k) => VERDICT_CODES[k] === code,
    );
    const chain = inner.get(NFTA_VERDICT_CHAIN);
    return `${[kind ?? `${code}`, ...(chain ? ['->', attributeString(chain)] : [])].map((t) => `${t} `).join('')}`;
  }
  const value = attrs.get(NFTA_DATA_VALUE);
  return value
    ? elementWords(Buffer.from(value.payload))
        .map((w) => `${w} `)
        .join('')
    : '';
}

/** One set element as nft --debug=netlink prints it (tab first, no newline). */
export function elementDebugText(element: {
  key: Buffer;
  /** NFTA_SET_ELEM_DATA payload (data-types.ts encodeValue). */
  value?: Buffer;
  intervalEnd?: boolean;
  userdata?: Buffer;
}): string {
  const keyText = elementWords(element.key)
    .map((w) => `${w} `)
    .join('');
  const valueText = element.value ? elementValueText(element.value) : '';
  const flags = element.intervalEnd ? NFT_SET_ELEM_INTERVAL_END : 0;
  const userdataText = element.userdata ? `  userdata = { ${escapeBytes(element.userdata)} }` : '';
  return `\telement ${keyText} : ${valueText}${flags} [end]${userdataText}`;
}

/**
 * An anonymous set as nft --debug=netlink prints it before the rule that uses it: the set
 * (`__set%d <table> <flags> size <n>`), the element batch header, and the elements on one line.
 */
export function anonymousSetDebugLines(set: AnonymousSet, table: string): string[] {
  const flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | set.flags;
  const ends = new Set(set.intervalEnd ?? []);
  const elements = set.elements.map((key, i) => {
    const value = set.values?.[i];
    const userdata = set.elementUserdata?.get(i);
    return elementDebugText({
      key,
      ...(value ? { value } : {}),
      intervalEnd: ends.has(i),
      ...(userdata ? { userdata } : {}),
    });
  });
  return [
    `${set.name} ${table} ${flags.toString(16)} size ${set.size}`,
    `${set.name} ${table} 0`,
    elements.join(''),
  ];
}
