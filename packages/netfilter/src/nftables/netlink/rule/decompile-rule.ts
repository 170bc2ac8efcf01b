// Expressions → rule text as `nft list` prints it, for rules dumped from the kernel: loads are
// named back (payload offsets to `ip saddr`, registers of a concatenation to `a . b . c`),
// nft's protocol matches are dropped where nft drops them (`meta l4proto tcp` before `tcp
// dport`), shrunk and masked loads become prefixes, gte/lte pairs ranges, merged loads their
// fields again. Expression shapes outside what the compiler writes are an NftExpressionDecodeError.

import ipaddr from 'ipaddr.js';
import type { NftFamily } from '../../model';
import { attributeString, attributesByType, attributeU32, type NetlinkAttribute } from '../attributes';
import {
  CT_STATES,
  CT_STATUSES,
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  NFTA_VERDICT_CHAIN,
  NFTA_VERDICT_CODE,
  readHostU32,
  VERDICT_CODES,
  type Verdict,
} from '../data-types';
import { decodeExpressions } from './decode-expressions';
import { NftExpressionDecodeError } from './errors';
import type { NftExpression } from './expressions';

/** An anonymous set's contents, as the client dumps them (AnonymousSet's shape). */
export interface AnonymousSetContents {
  keyType: string;
  elements: readonly Buffer[];
  /**
   * An interval set (NFT_SET_INTERVAL): `elements` are interval starts and ends even when no end
   * is flagged, as in a compiled `{ 0.0.0.0/0 }`, one interval running to the top of the key
   * space (the kernel's dump of such a set flags an end; a compiled set has none).
   */
  interval?: boolean;
  intervalEnd?: readonly number[];
  values?: readonly Buffer[];
  valueType?: string;
}

/** What reading expressions back into nft rule text needs besides the bytes themselves. */
export interface DecompileContext {
  /** The table's family: `ip`/`ip6` payload matches are read against it. */
  family: NftFamily;
  /** The chain the rule sits in (for a custom decompiler; this package's own does not read it). */
  chain?: string;
  /** `__set%d` contents by the name the lookup carries. */
  anonymousSets?: ReadonlyMap<string, AnonymousSetContents>;
  /** Interface index → name for `iif` / `oif` (nft lists the name); without it the index is printed. */
  interfaceName?: (index: number) => string | undefined;
}

type Source =
  | { t: 'payload'; base: string; offset: number; len: number }
  | { t: 'meta'; key: string }
  | { t: 'ct'; key: string; dir?: string }
  | { t: 'fib'; flags: number; result: number }
  | { t: 'numgen'; text: string };

interface Loaded {
  reg: number;
  source: Source;
  mask?: { op: 'and' | 'or' | 'xor'; value: Buffer };
  hton?: boolean;
}

interface Field {
  proto: string;
  name: string;
  offset: number;
  len: number;
  type: string;
}

const IP_FIELDS: Field[] = [
  { proto: 'ip', name: 'protocol', offset: 9, len: 1, type: 'inet_proto' },
  { proto: 'ip', name: 'saddr', offset: 12, len: 4, type: 'ipv4_addr' },
  { proto: 'ip', name: 'daddr', offset: 16, len: 4, type: 'ipv4_addr' },
];
const IP6_FIELDS: Field[] = [
  { proto: 'ip6', name: 'nexthdr', offset: 6, len: 1, type: 'inet_proto' },
  { proto: 'ip6', name: 'saddr', offset: 8, len: 16, type: 'ipv6_addr' },
  { proto: 'ip6', name: 'daddr', offset: 24, len: 16, type: 'ipv6_addr' },
];
const PORT_FIELDS = (proto: string): Field[] => [
  { proto, name: 'sport', offset: 0, len: 2, type: 'inet_service' },
  { proto, name: 'dport', offset: 2, len: 2, type: 'inet_service' },
];
const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
  136: 'udplite',
};
const FIB_TYPES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
];
const META_TYPES: Readonly<Record<string, string>> = {
  l4proto: 'inet_proto',
  nfproto: 'nf_proto',
  mark: 'mark',
  iifname: 'ifname',
  oifname: 'ifname',
};
/** Meta keys nft lists without `meta`. */
const BARE_META_KEYS = new Set(['iif', 'oif', 'iifname', 'oifname', 'iifgroup', 'oifgroup']);
const ICMP_NAMES: Readonly<Record<number, string>> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'prot-unreachable',
  3: 'port-unreachable',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};
const ICMPV6_NAMES: Readonly<Record<number, string>> = {
  0: 'no-route',
  1: 'admin-prohibited',
  3: 'addr-unreachable',
  4: 'port-unreachable',
  5: 'policy-fail',
  6: 'reject-route',
};
const ICMPX_NAMES: Readonly<Record<number, string>> = {
  0: 'no-route',
  1: 'port-unreachable',
  2: 'host-unreachable',
  3: 'admin-prohibited',
};
const CT_TYPES: Readonly<Record<string, string>> = { state: 'ct_state', status: 'ct_status', mark: 'mark' };
const CMP_TEXT: Readonly<Record<string, string>> = {
  eq: '',
  neq: '!= ',
  lt: '< ',
  lte: '<= ',
  gt: '> ',
  gte: '>= ',
};

function unsupported(expression: string, reason: string): NftExpressionDecodeError {
  return new NftExpressionDecodeError(expression, reason);
}

function hostWord(data: Buffer): number {
  const b = Buffer.alloc(4);
  data.copy(b, 0, 0, Math.min(4, data.length));
  return readHostU32(b, 0);
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

function flagNames(table: Readonly<Record<string, number>>, value: number): string {
  const names = Object.entries(table)
    .filter(([, bit]) => (value & bit) !== 0)
    .map(([name]) => name);
  return names.length > 0 ? names.join(',') : hex32(value);
}

/** A value of a data type as nft prints it. */
export function formatValue(type: string, data: Buffer): string {
  switch (type) {
    case 'ipv4_addr':
      return ipaddr.fromByteArray([...data.subarray(0, 4)]).toString();
    case 'ipv6_addr':
      return ipaddr.fromByteArray([...data.subarray(0, 16)]).toString();
    case 'inet_proto':
      return PROTOCOL_NAMES[data[0] as number] ?? `${data[0]}`;
    case 'nf_proto':
      return data[0] === 2 ? 'ipv4' : data[0] === 10 ? 'ipv6' : `${data[0]}`;
    case 'inet_service':
      return `${data.readUInt16BE(0)}`;
    case 'mark':
      return hex32(hostWord(data));
    case 'ct_state':
      return flagNames(CT_STATES, hostWord(data));
    case 'ct_status':
      return flagNames(CT_STATUSES, hostWord(data));
    case 'fib_addrtype':
      return FIB_TYPES[hostWord(data)] ?? `${hostWord(data)}`;
    case 'ifname': {
      const end = data.indexOf(0);
      return `"${data.toString('utf8', 0, end === -1 ? data.length : end)}${end === -1 && data.length < 16 ? '*' : ''}"`;
    }
    case 'integer':
      return `${hostWord(data)}`;
    default:
      throw unsupported(type, 'has no printer');
  }
}

function verdictText(v: Verdict): string {
  return v.chain === undefined ? v.kind : `${v.kind} ${v.chain}`;
}

function dataVerdict(payload: Buffer): Verdict | Buffer {
  const attrs = attributesByType(payload);
  const verdict = attrs.get(NFTA_DATA_VERDICT);
  if (!verdict) return Buffer.from(attrs.get(NFTA_DATA_VALUE)?.payload ?? Buffer.alloc(0));
  const inner = attributesByType(verdict.payload);
  const code = attributeU32(inner.get(NFTA_VERDICT_CODE) as NetlinkAttribute) | 0;
  const kind = (Object.keys(VERDICT_CODES) as (keyof typeof VERDICT_CODES)[]).find(
    (k) => VERDICT_CODES[k] === code,
  );
  const chain = inner.get(NFTA_VERDICT_CHAIN);
  return { kind: kind ?? 'accept', ...(chain ? { chain: attributeString(chain) } : {}) };
}

class Decompiler {
  private readonly words: string[] = [];
  private pending: Loaded[] = [];
  private readonly immediates = new Map<number, Buffer>();
  /** The last `meta l4proto X` / `meta nfproto X` match, which a later payload may make redundant. */
  private l4dep: { index: number; proto: string } | undefined;
  private nfdep: { index: number; proto: string } | undefined;
  private l4proto: string | undefined;
  /** The network protocol an inet rule matched (names its network header fields). */
  private nfproto: string | undefined;

  constructor(private readonly ctx: DecompileContext) {}

  run(expressions: readonly NftExpression[]): string {
    for (let i = 0; i < expressions.length; i++) i = this.step(expressions, i);
    return this.words.filter((w) => w.length > 0).join(' ');
  }

  private load(reg: number, source: Source): void {
    this.immediates.delete(reg);
    if (reg === 1 || reg === 2 || reg === 3 || reg === 4) {
      // A new 16-byte register load starts a new expression unless it continues a concatenation.
      if (this.pending.length > 0 && !this.continuesConcat(reg)) this.pending = [];
    }
    this.pending.push({ reg, source });
  }

  private continuesConcat(reg: number): boolean {
    const last = this.pending[this.pending.length - 1];
    if (!last) return false;
    return this.slotOf(reg) === this.slotOf(last.reg) + this.slots(last);
  }

  private slotOf(reg: number): number {
    return reg <= 4 ? (reg - 1) * 4 + 1 : reg - 8 + 1;
  }

  private slots(l: Loaded): number {
    return Math.ceil(this.lengthOf(l.source) / 4);
  }

  private lengthOf(s: Source): number {
    switch (s.t) {
      case 'payload':
        return s.len;
      case 'meta':
        return s.key === 'iifname' || s.key === 'oifname'
          ? 16
          : s.key === 'l4proto' || s.key === 'nfproto'
            ? 1
            : 4;
      case 'ct':
        return s.key === 'src_ip6' || s.key === 'dst_ip6' ? 16 : 4;
      default:
        return 4;
    }
  }

  /** The loads a consumer reading `reg` takes: the concatenation that starts there. */
  private take(reg: number): Loaded[] {
    const start = this.pending.findIndex((l) => l.reg === reg);
    if (start === -1) throw unsupported('register', `reg ${reg} is read before it is loaded`);
    const taken = this.pending.slice(start);
    this.pending = [];
    return taken;
  }

  private fields(base: string): Field[] {
    if (base === 'network') {
      if (this.ctx.family === 'ip') return IP_FIELDS;
      if (this.ctx.family === 'ip6') return IP6_FIELDS;
      return this.nfproto === 'ipv6' ? IP6_FIELDS : IP_FIELDS;
    }
    if (base === 'transport') return PORT_FIELDS(this.transportName());
    throw unsupported('payload', `base ${base} has no field names here`);
  }

  private transportName(): string {
    return this.l4proto === 'tcp' || this.l4proto === 'udp' || this.l4proto === 'sctp' ? this.l4proto : 'th';
  }

  /** A transport or network payload makes nft drop the protocol match before it. */
  private useDependency(source: Source): void {
    if (source.t !== 'payload') return;
    if (source.base === 'transport' && this.l4dep) {
      this.words[this.l4dep.index] = '';
      this.l4dep = undefined;
    }
    if (source.base === 'network' && this.nfdep && this.ctx.family === 'inet') {
      this.words[this.nfdep.index] = '';
      this.nfdep = undefined;
    }
  }

  /** Name and type of a loaded source (one field; merged loads are split by the caller). */
  private describe(source: Source): { text: string; type: string } {
    switch (source.t) {
      case 'payload': {
        const f = this.fields(source.base).find((x) => x.offset === source.offset);
        if (!f)
          throw unsupported(
            'payload',
            `${source.base} header + ${source.offset} is no field this library names`,
          );
        return { text: `${f.proto} ${f.name}`, type: f.type };
      }
      case 'meta':
        return {
          text: BARE_META_KEYS.has(source.key) ? source.key : `meta ${source.key}`,
          type: META_TYPES[source.key] ?? 'integer',
        };
      case 'ct': {
        if (
          source.key === 'src_ip' ||
          source.key === 'dst_ip' ||
          source.key === 'src_ip6' ||
          source.key === 'dst_ip6'
        ) {
          const v6 = source.key.endsWith('6');
          return {
            text: `ct ${source.dir ?? 'original'} ${v6 ? 'ip6' : 'ip'} ${source.key.startsWith('src') ? 'saddr' : 'daddr'}`,
            type: v6 ? 'ipv6_addr' : 'ipv4_addr',
          };
        }
        return {
          text: `ct ${source.dir ? `${source.dir} ` : ''}${source.key}`,
          type: CT_TYPES[source.key] ?? 'integer',
        };
      }
      case 'fib': {
        const names = ['saddr', 'daddr', 'mark', 'iif', 'oif'].filter(
          (_, i) => (source.flags & (1 << i)) !== 0,
        );
        const result = source.result === 3 ? 'type' : source.result === 2 ? 'oifname' : 'oif';
        return {
          text: `fib ${names.join(' . ')} ${result}`,
          type: source.result === 3 ? 'fib_addrtype' : 'integer',
        };
      }
      case 'numgen':
        return { text: source.text, type: 'integer' };
    }
  }

  private concatText(loads: readonly Loaded[]): { text: string; types: string[] } {
    for (const l of loads) this.useDependency(l.source);
    const parts = loads.map((l) => this.describe(l.source));
    return { text: parts.map((p) => p.text).join(' . '), types: parts.map((p) => p.type) };
  }

  private step(es: readonly NftExpression[], i: number): number {
    const e = es[i] as NftExpression;
    switch (e.kind) {
      case 'payload':
        this.load(e.dreg, { t: 'payload', base: e.base, offset: e.offset, len: e.len });
        return i;
      case 'meta':
        if (e.sreg !== undefined) {
          this.words.push(`meta ${e.key} set ${this.valueOf(e.sreg, META_TYPES[e.key] ?? 'integer')}`);
          return i;
        }
        this.load(e.dreg as number, { t: 'meta', key: e.key });
        return i;
      case 'ct':
        if (e.sreg !== undefined) {
          this.words.push(`ct ${e.key} set ${this.valueOf(e.sreg, CT_TYPES[e.key] ?? 'integer')}`);
          return i;
        }
        this.load(e.dreg as number, { t: 'ct', key: e.key, ...(e.direction ? { dir: e.direction } : {}) });
        return i;
      case 'fib':
        this.load(e.dreg, { t: 'fib', flags: e.flags, result: e.result });
        return i;
      case 'numgen':
        this.load(e.dreg, {
          t: 'numgen',
          text: `numgen ${e.type} mod ${e.modulus}${e.offset ? ` offset ${e.offset}` : ''}`,
        });
        return i;
      case 'bitwise': {
        const l = this.pending.find((x) => x.reg === e.sreg);
        if (!l) throw unsupported('bitwise', `reg ${e.sreg} is read before it is loaded`);
        const ones = e.mask.every((b) => b === 0xff);
        const zeroXor = e.xor.every((b) => b === 0);
        if (ones && zeroXor) return i; // `& 0xffffffff` changes nothing; nft lists no mask
        if (zeroXor) l.mask = { op: 'and', value: e.mask };
        else if (ones) l.mask = { op: 'xor', value: e.xor };
        else l.mask = { op: 'or', value: e.xor };
        return i;
      }
      case 'byteorder': {
        const l = this.pending.find((x) => x.reg === e.sreg);
        if (l) l.hton = true;
        return i;
      }
      case 'cmp':
        return this.compare(es, i, e);
      case 'range': {
        const [l] = this.take(e.sreg);
        const d = this.describe((l as Loaded).source);
        this.useDependency((l as Loaded).source);
        this.words.push(
          `${d.text} ${e.op === 'neq' ? '!= ' : ''}${formatValue(d.type, e.from)}-${formatValue(d.type, e.to)}`,
        );
        return i;
      }
      case 'lookup':
        return this.lookup(es, i, e);
      case 'immediate':
        if (e.verdict) this.words.push(verdictText(e.verdict));
        else {
          this.immediates.set(e.dreg, e.data ?? Buffer.alloc(0));
          this.pending = this.pending.filter((l) => l.reg !== e.dreg);
        }
        return i;
      case 'nat':
        this.nat(e);
        return i;
      case 'masq': {
        const flags = this.natFlags(e.flags ?? 0);
        let to = '';
        if (e.regProtoMin !== undefined) {
          const min = this.immediates.get(e.regProtoMin) as Buffer;
          const max = e.regProtoMax !== undefined ? this.immediates.get(e.regProtoMax) : undefined;
          to = ` to :${min.readUInt16BE(0)}${max ? `-${max.readUInt16BE(0)}` : ''}`;
        }
        this.words.push(`masquerade${to}${flags ? ` ${flags}` : ''}`);
        return i;
      }
      case 'counter':
        this.words.push(`counter packets ${e.packets} bytes ${e.bytes}`);
        return i;
      case 'reject':
        this.words.push(this.rejectText(e.type, e.code));
        return i;
      case 'dynset': {
        const key = this.concatText(this.take(e.sregKey)).text;
        this.words.push(
          // The kernel dumps a zero timeout for an element without one; nft lists none.
          `${e.op} @${e.set} { ${key}${e.timeout ? ` timeout ${formatTimeout(e.timeout)}` : ''} }`,
        );
        return i;
      }
      case 'log':
        this.words.push(
          `log${e.prefix !== undefined ? ` prefix "${e.prefix}"` : ''}${e.group !== undefined ? ` group ${e.group}` : ''}`,
        );
        return i;
      case 'limit':
        this.words.push(
          `limit rate ${e.flags ? 'over ' : ''}${e.rate}/${['second', 'minute', 'hour', 'day', 'week'][[1n, 60n, 3600n, 86400n, 604800n].indexOf(e.unit)]}${e.burst !== 5 ? ` burst ${e.burst} packets` : ''}`,
        );
        return i;
      case 'notrack':
        this.words.push('notrack');
        return i;
    }
  }

  private compare(es: readonly NftExpression[], i: number, e: NftExpression & { kind: 'cmp' }): number {
    const next = es[i + 1];
    const loads = this.take(e.sreg);
    const l = loads[0] as Loaded;
    const source = l.source;
    // gte then lte on the same register: a range.
    if (e.op === 'gte' && next?.kind === 'cmp' && next.op === 'lte' && next.sreg === e.sreg) {
      const d = this.describe(source);
      this.useDependency(source);
      this.words.push(`${d.text} ${formatValue(d.type, e.data)}-${formatValue(d.type, next.data)}`);
      return i + 1;
    }
    if (source.t === 'payload') {
      this.payloadCompare(l, e);
      return i;
    }
    const d = this.describe(source);
    if (
      l.mask &&
      (d.type === 'ct_state' || d.type === 'ct_status') &&
      e.op === 'neq' &&
      e.data.every((b) => b === 0)
    ) {
      this.words.push(`${d.text} ${formatValue(d.type, l.mask.value)}`);
      return i;
    }
    const maskBits =
      l.mask?.op === 'and' && l.mask.value.length === 4 ? leadingOnes(hostWord(l.mask.value)) : undefined;
    if (l.mask && maskBits !== undefined && (e.op === 'eq' || e.op === 'neq')) {
      this.words.push(`${d.text} ${CMP_TEXT[e.op]}${formatValue(d.type, e.data)}/${maskBits}`);
      return i;
    }
    if (l.mask) {
      const op = { and: '&', or: '|', xor: '^' }[l.mask.op];
      this.words.push(
        `${d.text} ${op} ${formatValue(d.type, l.mask.value)} ${e.op === 'eq' ? '==' : CMP_TEXT[e.op]?.trim()} ${formatValue(d.type, e.data)}`,
      );
      return i;
    }
    const value = l.hton ? Buffer.from(e.data).reverse() : e.data;
    if (this.mergeRange(d.text, e.op, formatValue(d.type, value))) return i;
    if (source.t === 'meta' && (source.key === 'iif' || source.key === 'oif')) {
      const index = hostWord(value);
      const name = this.ctx.interfaceName?.(index);
      this.words.push(`${d.text} ${CMP_TEXT[e.op]}${name === undefined ? `${index}` : `"${name}"`}`);
      return i;
    }
    const bitmask = d.type === 'ct_state' || d.type === 'ct_status';
    const op = e.op === 'eq' && bitmask ? '== ' : CMP_TEXT[e.op];
    const text = `${d.text} ${op}${formatValue(d.type, value)}`;
    const index = this.words.push(text) - 1;
    if (source.t === 'meta' && source.key === 'l4proto' && e.op === 'eq') {
      this.l4proto = formatValue('inet_proto', e.data);
      this.l4dep = { index, proto: this.l4proto };
    }
    if (source.t === 'meta' && source.key === 'nfproto' && e.op === 'eq') {
      this.nfproto = formatValue('nf_proto', e.data);
      this.nfdep = { index, proto: this.nfproto };
    }
    return i;
  }

  /** The last `x >= a` / `x < a` statement, which nft lists together with what follows as a range. */
  private lastBound: { index: number; text: string; from: string; op: string } | undefined;

  /**
   * Record `x >= a` or `x < a`; turn a following `x <= b` into `x a-b` and a following `x > b`
   * into `x != a-b`, as nft lists them. True when merged.
   */
  private mergeRange(text: string, op: string, value: string): boolean {
    const last = this.lastBound;
    this.lastBound = undefined;
    if (last && last.index === this.words.length - 1 && last.text === text) {
      if (op === 'lte' && last.op === 'gte') {
        this.words[last.index] = `${text} ${last.from}-${value}`;
        return true;
      }
      if (op === 'gt' && last.op === 'lt') {
        this.words[last.index] = `${text} != ${last.from}-${value}`;
        return true;
      }
    }
    if (op === 'gte' || op === 'lt') this.lastBound = { index: this.words.length, text, from: value, op };
    return false;
  }

  private payloadCompare(l: Loaded, e: NftExpression & { kind: 'cmp' }): void {
    const source = l.source as Source & { t: 'payload' };
    this.useDependency(source);
    const fields = this.fields(source.base);
    const field = fields.find((f) => f.offset === source.offset);
    if (!field)
      throw unsupported('payload', `${source.base} header + ${source.offset} is no field this library names`);
    const op = CMP_TEXT[e.op] ?? '';
    if (l.mask?.op === 'and' && source.len === field.len) {
      const bits = [...l.mask.value].reduce((n, b) => n + popcount(b), 0);
      this.words.push(`${field.proto} ${field.name} ${op}${formatValue(field.type, e.data)}/${bits}`);
      return;
    }
    if (source.len < field.len) {
      const full = Buffer.alloc(field.len);
      e.data.copy(full);
      this.words.push(`${field.proto} ${field.name} ${op}${formatValue(field.type, full)}/${source.len * 8}`);
      return;
    }
    if (source.len === field.len && (e.op === 'gte' || e.op === 'lte' || e.op === 'lt' || e.op === 'gt')) {
      const text = `${field.proto} ${field.name}`;
      const value = formatValue(field.type, e.data);
      if (!this.mergeRange(text, e.op, value)) this.words.push(`${text} ${op}${value}`);
      return;
    }
    // One load over several fields (nft merged them): one match per field again, or nft's raw
    // form when the transport protocol is unknown.
    if (source.base === 'transport' && this.transportName() === 'th' && source.len > field.len) {
      this.words.push(
        `@th,${source.offset * 8},${source.len * 8} ${op}0x${BigInt(`0x${e.data.toString('hex')}`).toString(16)}`,
      );
      return;
    }
    let at = 0;
    while (at < source.len) {
      const f = fields.find((x) => x.offset === source.offset + at);
      if (!f)
        throw unsupported(
          'payload',
          `${source.base} header + ${source.offset + at} is no field this library names`,
        );
      this.words.push(`${f.proto} ${f.name} ${op}${formatValue(f.type, e.data.subarray(at, at + f.len))}`);
      at += f.len;
    }
    if (source.t === 'payload' && field.name === 'protocol' && e.op === 'eq')
      this.l4proto = formatValue('inet_proto', e.data);
  }

  private lookup(_es: readonly NftExpression[], i: number, e: NftExpression & { kind: 'lookup' }): number {
    const loads = this.take(e.sreg);
    const key = this.concatText(loads);
    const target = this.setText(e.set, key.types);
    if (e.dreg === 0) this.words.push(`${key.text} vmap ${target}`);
    else if (e.dreg !== undefined) this.mapLoads.set(e.dreg, { key: key.text, target });
    else this.words.push(`${key.text} ${e.flags ? '!= ' : ''}${target}`);
    return i;
  }

  private readonly mapLoads = new Map<number, { key: string; target: string }>();

  private setText(name: string, keyTypes: readonly string[]): string {
    if (!name.startsWith('__')) return `@${name}`;
    const contents = this.ctx.anonymousSets?.get(name);
    if (!contents) throw unsupported('lookup', `anonymous set ${name} has no contents in the context`);
    const keyType = contents.keyType || keyTypes.join(' . ');
    const types = keyType.split('.').map((t) => t.trim());
    const keyText = (key: Buffer): string => {
      let at = 0;
      return types
        .map((t) => {
          const len =
            t === 'ipv6_addr' || t === 'ifname'
              ? 16
              : t === 'ipv4_addr' || t === 'integer' || t === 'mark'
                ? 4
                : t === 'inet_service'
                  ? 2
                  : 1;
          const part = key.subarray(at, at + len);
          at += types.length > 1 ? Math.ceil(len / 4) * 4 : len;
          return formatValue(t, part);
        })
        .join(' . ');
    };
    let items: string[];
    if (contents.interval || (contents.intervalEnd && contents.intervalEnd.length > 0))
      items = intervalTexts(types[0] as string, contents);
    else
      items = sortedIndexes(contents.elements, types).map((n) => {
        const key = contents.elements[n] as Buffer;
        const value = contents.values?.[n];
        if (!value) return keyText(key);
        const data = dataVerdict(value);
        if (!Buffer.isBuffer(data)) return `${keyText(key)} : ${verdictText(data)}`;
        const valueTypes = (contents.valueType ?? '').split('.').map((t) => t.trim());
        let at = 0;
        const parts = valueTypes.map((t) => {
          const len = t === 'ipv6_addr' ? 16 : t === 'inet_service' ? 2 : 4;
          const part = data.subarray(at, at + len);
          at += Math.ceil(len / 4) * 4;
          return formatValue(t, part);
        });
        return `${keyText(key)} : ${parts.join(' . ')}`;
      });
    return `{ ${items.join(', ')} }`;
  }

  private natFlags(flags: number): string {
    const names: string[] = [];
    if (flags & 0x4) names.push('random');
    if (flags & 0x10) names.push('fully-random');
    if (flags & 0x8) names.push('persistent');
    return names.join(',');
  }

  private nat(e: NftExpression & { kind: 'nat' }): void {
    const flags = this.natFlags(e.flags ?? 0);
    const map = e.regAddrMin !== undefined ? this.mapLoads.get(e.regAddrMin) : undefined;
    const family = this.ctx.family === 'inet' || map ? ` ${e.family}` : '';
    if (map) {
      this.words.push(`${e.type}${family} to ${map.key} map ${map.target}${flags ? ` ${flags}` : ''}`);
      return;
    }
    const type = e.family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
    const addr = (reg: number | undefined) => (reg === undefined ? undefined : this.immediates.get(reg));
    // The kernel dumps the max register of a single address or port as the min one; nft lists
    // a range only where the two differ.
    const min = addr(e.regAddrMin);
    const max = e.regAddrMax === e.regAddrMin ? undefined : addr(e.regAddrMax);
    let to = min ? formatValue(type, min) + (max ? `-${formatValue(type, max)}` : '') : '';
    const pmin = addr(e.regProtoMin);
    const pmax = e.regProtoMax === e.regProtoMin ? undefined : addr(e.regProtoMax);
    if (pmin) {
      if (e.family === 'ip6' && to) to = `[${to}]`;
      to += `:${pmin.readUInt16BE(0)}${pmax ? `-${pmax.readUInt16BE(0)}` : ''}`;
    }
    this.words.push(`${e.type}${family} to ${to}${flags ? ` ${flags}` : ''}`);
  }

  private rejectText(type: number, code: number): string {
    const family = this.ctx.family;
    if (type === 1) {
      if (this.l4dep?.proto === 'tcp') this.words[this.l4dep.index] = '';
      return 'reject with tcp reset';
    }
    if (type === 0 && family === 'ip' && code === 3) return 'reject';
    if (type === 0 && family === 'ip6' && code === 4) return 'reject';
    if (type === 2 && code === 1) return 'reject';
    const v6 = family === 'ip6' || (family === 'inet' && this.nfproto === 'ipv6');
    // In inet tables the ICMP flavour implies the network protocol: nft drops that match.
    if (family === 'inet' && type === 0 && this.nfdep) {
      this.words[this.nfdep.index] = '';
      this.nfdep = undefined;
    }
    const kind = type === 2 ? 'icmpx' : v6 ? 'icmpv6' : 'icmp';
    const names = kind === 'icmpx' ? ICMPX_NAMES : kind === 'icmpv6' ? ICMPV6_NAMES : ICMP_NAMES;
    return `reject with ${kind} ${names[code] ?? code}`;
  }

  private valueOf(reg: number, type: string): string {
    const immediate = this.immediates.get(reg);
    if (immediate) return formatValue(type, immediate);
    const loads = this.take(reg);
    const l = loads[0] as Loaded;
    const d = this.describe(l.source);
    if (!l.mask) return d.text;
    const op = { and: '&', or: '|', xor: '^' }[l.mask.op];
    return `${d.text} ${op} ${formatValue(d.type, l.mask.value)}`;
  }
}

/** Bits of a mask made of leading ones (0xff000000 → 8), or undefined for any other mask. */
function leadingOnes(mask: number): number | undefined {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  const bits = 32 - (inverted === 0 ? 0 : Math.log2(inverted + 1));
  return bits > 0 && bits < 32 ? bits : undefined;
}

function popcount(b: number): number {
  let n = 0;
  for (let v = b; v; v &= v - 1) n++;
  return n;
}

function formatTimeout(ms: bigint): string {
  if (ms % 1000n !== 0n) return `${ms}ms`;
  return `${ms / 1000n}s`;
}

/** Element order as nft lists an anonymous set: by key value (nft 1.0's notion of it). */
function sortedIndexes(keys: readonly Buffer[], types: readonly string[]): number[] {
  const hostOrder = types.length === 1 && (types[0] === 'integer' || types[0] === 'mark');
  const order = keys.map((_, i) => i);
  return order.sort((a, b) => {
    const ka = keys[a] as Buffer;
    const kb = keys[b] as Buffer;
    if (hostOrder) return hostWord(ka) - hostWord(kb);
    // A concatenated key sorts as one host-order (little-endian) number, a single one by value.
    return types.length > 1
      ? Buffer.compare(Buffer.from(ka).reverse(), Buffer.from(kb).reverse())
      : Buffer.compare(ka, kb);
  });
}

/** The key types nft prints a prefix for (`10.0.0.0/8`). */
const ADDRESS_TYPES = new Set(['ipv4_addr', 'ipv6_addr']);

/** Interval set elements back to nft's `prefix`, `a-b` or single values. */
function intervalTexts(type: string, contents: AnonymousSetContents): string[] {
  const ends = new Set(contents.intervalEnd ?? []);
  const len = contents.elements[0]?.length ?? 4;
  const top = 1n << BigInt(len * 8);
  const toBig = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
  const out: string[] = [];
  contents.elements.forEach((key, i) => {
    if (ends.has(i)) return;
    const start = toBig(key);
    const next = contents.elements[i + 1];
    const end = next && ends.has(i + 1) ? toBig(next) : top;
    const size = end - start;
    const bits = len * 8;
    const fmt = (v: bigint) => formatValue(type, Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex'));
    if (
      type === 'ifname' &&
      size > 1n &&
      (size & (size - 1n)) === 0n &&
      (size.toString(2).length - 1) % 8 === 0
    ) {
      const prefix = Buffer.from(start.toString(16).padStart(len * 2, '0'), 'hex').subarray(
        0,
        len - (size.toString(2).length - 1) / 8,
      );
      out.push(`"${prefix.toString('utf8')}*"`);
    } else if (size === 1n) out.push(fmt(start));
    // nft writes prefixes for addresses only; other types' aligned blocks stay ranges (`80-83`).
    else if (ADDRESS_TYPES.has(type) && (size & (size - 1n)) === 0n && start % size === 0n)
      out.push(`${fmt(start)}/${bits - (size.toString(2).length - 1)}`);
    else out.push(`${fmt(start)}-${fmt(end - 1n)}`);
  });
  return out;
}

/** Expressions (NFTA_RULE_EXPRESSIONS bytes or decoded) → rule text as nft lists it. */
export function decompileRule(
  expressions: Buffer | readonly NftExpression[],
  context: DecompileContext,
): string {
  const list = Buffer.isBuffer(expressions) ? decodeExpressions(expressions) : expressions;
  return new Decompiler(context).run(list);
}
