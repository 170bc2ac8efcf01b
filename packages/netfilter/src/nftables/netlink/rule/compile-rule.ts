// nft rule text → nf_tables expressions, the way nft 1.0 linearizes the same rule: protocol
// matches nft inserts before payload it reads, prefixes shrunk to whole bytes, single-element
// anonymous sets turned into plain matches, ranges as two comparisons, registers as nft
// allocates them. nft --debug=netlink is the oracle (test/nft-rule-oracle.test.ts).

import { InvalidFieldError } from '../../../errors';
import type { NftFamily } from '../../model';
import { encodeDataValue, encodeKey, encodeValue, hostU32, keyLength, typeParts } from '../data-types';
import { NftRuleSetError, NftRuleSyntaxError } from './errors';
import type { NftExpression } from './expressions';
import {
  intervalElements,
  isIntervalText,
  isWildcardName,
  parsePrefix,
  splitRange,
  wildcardPrefix,
} from './intervals';
import { mergePayloadMatches } from './merge-payload';
import { parseRule } from './parse-rule';
import { registerNumber, SlotAllocator, slotsFor } from './registers';
import type { RelOp, RhsExpr, SelectorExpr, SetElementAst, Statement, ValueExpr } from './rule-ast';
import {
  loadSelector,
  networkOrder,
  type SelectorDependency,
  selectorDependencies,
  selectorSlots,
  selectorType,
  UnknownSelectorError,
} from './selectors';
import type { AllocateAnonymousSet, AnonymousSet, NetlinkSetInfo, RuleBatchState } from './types';

const NFT_SET_INTERVAL = 0x4;
const NFT_SET_MAP = 0x8;
const NFT_LOOKUP_F_INV = 1;
const NF_NAT_RANGE_PROTO_SPECIFIED = 0x2;
const NAT_FLAG_BITS: Readonly<Record<string, number>> = {
  random: 0x4,
  persistent: 0x8,
  'fully-random': 0x10,
};
const BITMASK_TYPES = new Set(['ct_state', 'ct_status']);
/** NFTNL_UDATA_SET_ELEM_FLAGS (1), 4 bytes, NFTNL_SET_ELEM_F_INTERVAL_OPEN (1) in host order. */
const OPEN_INTERVAL_USERDATA = Buffer.concat([Buffer.from([1, 4]), hostU32(1)]);

const ICMP_CODES: Readonly<Record<string, number>> = {
  'net-unreachable': 0,
  'host-unreachable': 1,
  'prot-unreachable': 2,
  'port-unreachable': 3,
  'net-prohibited': 9,
  'host-prohibited': 10,
  'admin-prohibited': 13,
};
const ICMPV6_CODES: Readonly<Record<string, number>> = {
  'no-route': 0,
  'admin-prohibited': 1,
  'addr-unreachable': 3,
  'port-unreachable': 4,
  'policy-fail': 5,
  'reject-route': 6,
};
const ICMPX_CODES: Readonly<Record<string, number>> = {
  'no-route': 0,
  'port-unreachable': 1,
  'host-unreachable': 2,
  'admin-prohibited': 3,
};
const LOG_LEVELS: Readonly<Record<string, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
  audit: 8,
};
const LIMIT_UNITS: Readonly<Record<string, bigint>> = {
  second: 1n,
  minute: 60n,
  hour: 3600n,
  day: 86400n,
  week: 604800n,
};
const TIMEOUT_UNITS: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1000n,
  m: 60000n,
  h: 3600000n,
  d: 86400000n,
};

export interface CompileExpressionsInput {
  family: NftFamily;
  rule: string;
  sets: ReadonlyMap<string, NetlinkSetInfo>;
  allocateSet: AllocateAnonymousSet;
  batch?: RuleBatchState;
  resolveInterface?: (name: string) => number | undefined;
}

/** State for the rules of one batch (CompileRuleInput.batch). */
export function newRuleBatch(): RuleBatchState {
  return { mapValuesEvaluated: new Set() };
}

export interface CompiledExpressions {
  expressions: NftExpression[];
  anonymousSets: AnonymousSet[];
}

class RuleCompiler {
  readonly out: NftExpression[] = [];
  readonly anonymousSets: AnonymousSet[] = [];
  /** Protocol context: what earlier matches of the rule established (nft's pctx). */
  private readonly context = new Map<'l4proto' | 'nfproto', string>();

  constructor(private readonly input: CompileExpressionsInput) {}

  get family(): NftFamily {
    return this.input.family;
  }

  fail(offset: number, reason: string, token?: string): never {
    const rule = this.input.rule;
    const word = token ?? rule.slice(offset).split(/\s+/)[0] ?? '<end>';
    throw new NftRuleSyntaxError(rule, word || '<end>', offset, reason);
  }

  /** Run `f`, turning value and selector errors into a syntax error at `offset`. */
  at<T>(offset: number, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof InvalidFieldError)
        this.fail(offset, `${e.field}: ${JSON.stringify(e.value)} ${e.reason}`, String(e.value));
      if (e instanceof UnknownSelectorError) this.fail(offset, `${e.what} ${e.reason}`);
      throw e;
    }
  }

  compile(statements: readonly Statement[]): void {
    for (const s of mergePayloadMatches(statements, this.family)) this.statement(s);
  }

  private dependencies(deps: readonly SelectorDependency[], offset: number): void {
    for (const dep of deps) {
      const have = this.context.get(dep.key);
      if (have === dep.value) continue;
      if (have !== undefined) this.fail(offset, `conflicting protocols specified: ${have} vs. ${dep.value}`);
      const slot = 1;
      this.out.push({ kind: 'meta', key: dep.key, dreg: registerNumber(slot) });
      const type = dep.key === 'l4proto' ? 'inet_proto' : 'nf_proto';
      this.out.push({
        kind: 'cmp',
        op: 'eq',
        sreg: registerNumber(slot),
        data: encodeDataValue(type, dep.value),
      });
      this.context.set(dep.key, dep.value);
    }
  }

  private selectorDeps(sel: SelectorExpr, offset: number): void {
    this.dependencies(
      this.at(offset, () => selectorDependencies(sel, this.family)),
      offset,
    );
  }

  private statement(s: Statement): void {
    switch (s.t) {
      case 'verdict':
        this.out.push({ kind: 'immediate', dreg: 0, verdict: s.verdict });
        return;
      case 'counter':
        this.out.push({ kind: 'counter', packets: s.packets, bytes: s.bytes });
        return;
      case 'notrack':
        this.out.push({ kind: 'notrack' });
        return;
      case 'match':
        this.match(s);
        return;
      case 'dependency-marker':
        for (const sel of s.selectors) this.selectorDeps(sel, s.at);
        return;
      case 'payload-match': {
        for (const sel of s.dependsOn) this.selectorDeps(sel, s.at);
        const reg = registerNumber(1);
        this.out.push({ kind: 'payload', base: s.base, offset: s.offset, len: s.len, dreg: reg });
        this.out.push({ kind: 'cmp', op: s.op, sreg: reg, data: s.data });
        return;
      }
      case 'vmap':
        this.vmap(s.key, s.map, s.offset);
        return;
      case 'set':
        this.setStatement(s);
        return;
      case 'nat':
        this.nat(s);
        return;
      case 'masquerade':
        this.masquerade(s);
        return;
      case 'reject':
        this.reject(s);
        return;
      case 'dynset':
        this.dynset(s);
        return;
      case 'log': {
        const e: NftExpression = { kind: 'log' };
        if (s.prefix !== undefined) e.prefix = s.prefix;
        if (s.group !== undefined) e.group = s.group;
        if (s.level !== undefined) {
          const level = LOG_LEVELS[s.level];
          if (level === undefined) this.fail(0, 'unknown log level', s.level);
          e.level = level;
        }
        this.out.push(e);
        return;
      }
      case 'limit':
        this.out.push({
          kind: 'limit',
          rate: BigInt(s.rate),
          unit: LIMIT_UNITS[s.unit] as bigint,
          burst: s.burst ?? 5,
          type: 0,
          flags: s.over ? 1 : 0,
        });
        return;
    }
  }

  private match(s: Statement & { t: 'match' }): void {
    const { left, right, offset } = s;
    this.selectorDeps(left, offset);
    if (right.t === 'setref' || right.t === 'set') {
      if (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'neq')
        this.fail(right.offset, `a set lookup takes == or !=, not ${s.op}`);
      if (right.t === 'set' && right.elements.length === 1 && !right.elements[0]?.value) {
        const only = right.elements[0] as SetElementAst;
        if (only.key.length === 1) {
          this.valueMatch(left, s.op, { t: 'value', text: only.key[0] as string, offset: only.offset });
          return;
        }
      }
      const allocator = new SlotAllocator();
      const slot = allocator.allocate(selectorSlots(left, this.family));
      this.at(offset, () => loadSelector(left, this.family, slot, this.out));
      const target = this.lookupTarget(left, right, undefined);
      this.out.push({
        kind: 'lookup',
        sreg: registerNumber(slot),
        set: target.name,
        ...(target.setId !== undefined ? { setId: target.setId } : {}),
        ...(s.op === 'neq' ? { flags: NFT_LOOKUP_F_INV } : {}),
      });
      if (right.t === 'set' && s.op !== 'neq') this.establishFromSet(left, right.elements);
      return;
    }
    this.valueMatch(left, s.op, right);
    this.establish(left, s.op, right);
  }

  /** `meta l4proto tcp` / `ip protocol tcp` set the protocol context later payload relies on. */
  private establish(left: SelectorExpr, op: string, right: ValueExpr): void {
    if (op !== 'implicit' && op !== 'eq') return;
    const l4 =
      (left.t === 'meta' && left.key === 'l4proto') ||
      (left.t === 'payload' && (left.field === 'protocol' || left.field === 'nexthdr'));
    if (l4) this.context.set('l4proto', right.text);
    if (left.t === 'meta' && left.key === 'nfproto') this.context.set('nfproto', right.text);
  }

  /**
   * nft 1.0 takes the protocol context of `meta l4proto { tcp, udp }` from the set's largest
   * element (here udp), so a later `tcp dport` conflicts with it as it does in nft.
   */
  private establishFromSet(left: SelectorExpr, elements: readonly SetElementAst[]): void {
    const l4 =
      (left.t === 'meta' && left.key === 'l4proto') ||
      (left.t === 'payload' && (left.field === 'protocol' || left.field === 'nexthdr'));
    if (!l4) return;
    let largest: { text: string; value: number } | undefined;
    for (const e of elements) {
      const text = e.key[0] as string;
      const value = this.at(e.offset, () => encodeDataValue('inet_proto', text))[0] as number;
      if (!largest || value > largest.value) largest = { text, value };
    }
    if (largest) this.context.set('l4proto', largest.text);
  }

  private valueMatch(left: SelectorExpr, op: RelOp, right: ValueExpr): void {
    const family = this.family;
    const t = this.at(right.offset, () => selectorType(left, family));
    const allocator = new SlotAllocator();
    const slot = allocator.allocate(selectorSlots(left, family));
    const reg = registerNumber(slot);
    const text = t.type === 'iface_index' ? this.interfaceIndex(right) : right.text;
    const cmpOp = op === 'implicit' ? 'eq' : (op as 'eq');
    // Prefix: whole bytes shrink the load, other lengths mask it.
    if (left.t === 'payload' && text.includes('/') && (op === 'implicit' || op === 'eq' || op === 'neq')) {
      const p = this.at(right.offset, () => parsePrefix(t.type, text));
      if (p.prefixLength === p.bits) {
        this.at(right.offset, () => loadSelector(left, family, slot, this.out));
        this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data: p.base });
        return;
      }
      if (p.prefixLength % 8 === 0 && p.prefixLength > 0) {
        const bytes = p.prefixLength / 8;
        const before = this.out.length;
        this.at(right.offset, () => loadSelector(left, family, slot, this.out));
        const load = this.out[before];
        if (load?.kind === 'payload') load.len = bytes;
        this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data: p.base.subarray(0, bytes) });
        return;
      }
      this.at(right.offset, () => loadSelector(left, family, slot, this.out));
      const mask = Buffer.alloc(p.base.length);
      for (let bit = 0; bit < p.prefixLength; bit++)
        mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
      this.out.push({
        kind: 'bitwise',
        sreg: reg,
        dreg: reg,
        len: p.base.length,
        mask,
        xor: Buffer.alloc(p.base.length),
      });
      this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data: p.base });
      return;
    }
    this.at(right.offset, () => loadSelector(left, family, slot, this.out));
    const range = isIntervalText(t.type, text) ? splitRange(text) : undefined;
    if (range) {
      const from = this.at(right.offset, () => encodeDataValue(t.type, range[0]));
      const to = this.at(right.offset, () => encodeDataValue(t.type, range[1]));
      if (op === 'neq') this.out.push({ kind: 'range', op: 'neq', sreg: reg, from, to });
      else if (op === 'implicit' || op === 'eq') {
        this.out.push({ kind: 'cmp', op: 'gte', sreg: reg, data: from });
        this.out.push({ kind: 'cmp', op: 'lte', sreg: reg, data: to });
      } else this.fail(right.offset, `a range takes == or !=, not ${op}`);
      return;
    }
    if (t.type === 'ifname' && isWildcardName(text)) {
      this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data: Buffer.from(wildcardPrefix(text), 'utf8') });
      return;
    }
    const data = this.at(right.offset, () => encodeDataValue(t.type, text));
    if (BITMASK_TYPES.has(t.type) && op === 'implicit') {
      this.out.push({
        kind: 'bitwise',
        sreg: reg,
        dreg: reg,
        len: t.length,
        mask: data,
        xor: Buffer.alloc(t.length),
      });
      this.out.push({ kind: 'cmp', op: 'neq', sreg: reg, data: Buffer.alloc(t.length) });
      return;
    }
    if (t.hostOrder && cmpOp !== 'eq' && cmpOp !== 'neq') {
      this.out.push({ kind: 'byteorder', op: 'hton', sreg: reg, dreg: reg, len: t.length, size: t.length });
      this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data: networkOrder(data) });
      return;
    }
    this.out.push({ kind: 'cmp', op: cmpOp, sreg: reg, data });
  }

  /** `iif cbr0` → the interface's index, as nft resolves it when it compiles the rule. */
  private interfaceIndex(value: ValueExpr): string {
    const name = value.text.replace(/^"(.*)"$/, '$1');
    if (/^[0-9]+$/.test(name)) return name;
    const resolve = this.input.resolveInterface;
    if (!resolve)
      this.fail(
        value.offset,
        'an interface name needs CompileRuleInput.resolveInterface (nft resolves it in its network namespace)',
      );
    const index = resolve(name);
    if (index === undefined) this.fail(value.offset, 'Interface does not exist');
    return `${index}`;
  }

  /** The set a lookup reads: a named one (checked against `sets`), or a new anonymous one. */
  private lookupTarget(
    key: SelectorExpr,
    rhs: RhsExpr,
    valueType: string | undefined,
  ): { name: string; setId?: number; info?: NetlinkSetInfo } {
    if (rhs.t === 'setref') {
      const info = this.input.sets.get(rhs.name);
      if (!info) throw new NftRuleSetError(this.input.rule, rhs.name, 'is not a set or map of the table');
      return { name: info.name, info, ...(info.setId !== undefined ? { setId: info.setId } : {}) };
    }
    if (rhs.t !== 'set') this.fail(rhs.offset, 'expected @set or { … }');
    const keyType = this.at(rhs.offset, () => selectorType(key, this.family).type);
    const anon = this.anonymousSet(keyType, rhs.elements, valueType, rhs.offset);
    this.anonymousSets.push(anon);
    return { name: anon.name, setId: anon.setId };
  }

  private anonymousSet(
    keyType: string,
    elements: readonly SetElementAst[],
    valueType: string | undefined,
    offset: number,
  ): AnonymousSet {
    const { name, setId } = this.input.allocateSet(valueType === undefined ? 'set' : 'map');
    const single = typeParts(keyType).length === 1;
    const interval = single && elements.some((e) => isIntervalText(keyType, e.key[0] as string));
    if (interval) {
      if (valueType !== undefined)
        this.fail(offset, 'anonymous maps with prefixes or ranges are not supported');
      const { keys, ends, openEnd } = this.at(offset, () =>
        intervalElements(
          keyType,
          elements.map((e) => e.key[0] as string),
        ),
      );
      const set: AnonymousSet = {
        name,
        setId,
        keyType,
        keyLength: keyLength(keyType),
        flags: NFT_SET_INTERVAL,
        elements: keys,
        interval: true,
        intervalEnd: ends,
        size: keys.length + (openEnd ? 1 : 0),
      };
      if (openEnd) set.elementUserdata = new Map([[keys.length - 1, OPEN_INTERVAL_USERDATA]]);
      return set;
    }
    const keys = elements.map((e) => this.at(e.offset, () => encodeKey(keyType, e.key)));
    const set: AnonymousSet = {
      name,
      setId,
      keyType,
      keyLength: keyLength(keyType),
      flags: valueType === undefined ? 0 : NFT_SET_MAP,
      elements: keys,
      size: keys.length,
    };
    if (valueType !== undefined) {
      set.valueType = valueType;
      set.values = elements.map((e) => {
        if (!e.value) this.fail(e.offset, 'a map element needs a value (key : value)');
        const value = e.value;
        return this.at(e.offset, () => encodeValue(valueType, value));
      });
    }
    return set;
  }

  private vmap(key: SelectorExpr, map: RhsExpr, offset: number): void {
    this.selectorDeps(key, offset);
    const allocator = new SlotAllocator();
    const slot = allocator.allocate(selectorSlots(key, this.family));
    this.at(offset, () => loadSelector(key, this.family, slot, this.out));
    const target = this.lookupTarget(key, map, 'verdict');
    if (target.info && target.info.valueType !== 'verdict')
      throw new NftRuleSetError(this.input.rule, target.name, 'is not a verdict map');
    this.out.push({
      kind: 'lookup',
      sreg: registerNumber(slot),
      set: target.name,
      dreg: 0,
      ...(target.setId !== undefined ? { setId: target.setId } : {}),
    });
  }

  private setStatement(s: Statement & { t: 'set' }): void {
    const target = s.target;
    if (target.t !== 'meta' && target.t !== 'ct') this.fail(s.offset, 'only meta and ct keys can be set');
    const t = this.at(s.offset, () => selectorType(target, this.family));
    const slot = 1;
    const reg = registerNumber(slot);
    if (s.value.t === 'value') {
      const text = s.value.text;
      const data = this.at(s.value.offset, () => encodeDataValue(t.type, text));
      this.out.push({ kind: 'immediate', dreg: reg, data });
    } else {
      const value = s.value;
      this.selectorDeps(value, s.offset);
      this.at(s.offset, () => loadSelector(value, this.family, slot, this.out));
    }
    const set = this.at(s.offset, () => {
      const probe: NftExpression[] = [];
      loadSelector(target, this.family, slot, probe);
      return probe[0] as NftExpression & { kind: 'meta' | 'ct' };
    });
    if (set.kind === 'meta') this.out.push({ kind: 'meta', key: set.key, sreg: reg });
    else
      this.out.push({
        kind: 'ct',
        key: set.key,
        sreg: reg,
        ...(set.direction ? { direction: set.direction } : {}),
      });
  }

  private natFamily(
    explicit: 'ip' | 'ip6' | undefined,
    address: string | undefined,
    offset: number,
  ): 'ip' | 'ip6' {
    if (explicit) return explicit;
    if (this.family === 'ip' || this.family === 'ip6') return this.family;
    if (address === undefined || address.startsWith(':')) return 'ip';
    return this.fail(offset, `ip or ip6 must be specified with address for ${this.family} tables`);
  }

  private flagBits(flags: readonly string[]): number {
    return flags.reduce((bits, f) => bits | (NAT_FLAG_BITS[f] ?? 0), 0);
  }

  private requireTransport(offset: number): void {
    if (!this.context.has('l4proto'))
      this.fail(offset, 'transport protocol mapping is only valid after transport protocol match');
  }

  private nat(s: Statement & { t: 'nat' }): void {
    const family = this.natFamily(s.family, s.to, s.offset);
    const addrType = family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
    const allocator = new SlotAllocator();
    let flags = this.flagBits(s.flags);
    if (s.mapKey && s.map) {
      const mapKey = s.mapKey;
      // The value type: `ip daddr . tcp dport` (typeof) or `ipv4_addr . inet_service`.
      let valueTypeText: string;
      if (s.map.t === 'setref') {
        const info = this.input.sets.get(s.map.name);
        if (!info) throw new NftRuleSetError(this.input.rule, s.map.name, 'is not a set or map of the table');
        if (!info.valueType) throw new NftRuleSetError(this.input.rule, s.map.name, 'is a set, not a map');
        valueTypeText = info.valueType;
      } else valueTypeText = this.inferNatValueType(addrType, s.map);
      const value = this.resolveTypeText(valueTypeText, s.offset);
      // nft evaluates a named map's typeof value once per batch: only that first rule gets its
      // protocol match.
      const batch = this.input.batch;
      const mapName = s.map.t === 'setref' ? s.map.name : undefined;
      if (!batch || mapName === undefined || !batch.mapValuesEvaluated.has(mapName))
        this.dependencies(value.dependencies, s.offset);
      if (batch && mapName !== undefined && value.dependencies.length > 0)
        batch.mapValuesEvaluated.add(mapName);
      this.selectorDeps(mapKey, s.offset);
      const addrSlot = allocator.allocate(4);
      this.at(s.offset, () => loadSelector(mapKey, this.family, addrSlot, this.out));
      const target = this.lookupTarget(mapKey, s.map, value.types.join(' . '));
      this.out.push({
        kind: 'lookup',
        sreg: registerNumber(addrSlot),
        set: target.name,
        dreg: registerNumber(addrSlot),
        ...(target.setId !== undefined ? { setId: target.setId } : {}),
      });
      const e: NftExpression = { kind: 'nat', type: s.type, family, regAddrMin: registerNumber(addrSlot) };
      if (value.types.length === 2)
        e.regProtoMin = registerNumber(
          addrSlot + slotsFor(encodeDataValue(addrType, family === 'ip6' ? '::' : '0.0.0.0').length),
        );
      else if (value.types.length !== 1 || value.types[0] !== addrType)
        this.fail(s.offset, `a nat map's value must be ${addrType} or ${addrType} . inet_service`);
      if (flags) e.flags = flags;
      this.out.push(e);
      return;
    }
    const to = s.to as string;
    const { addr, port } = this.at(s.offset, () => splitNatTarget(to, family));
    const e: NftExpression = { kind: 'nat', type: s.type, family };
    const immediates: NftExpression[] = [];
    if (addr) {
      const range = splitRange(addr);
      const min = allocator.allocate(4);
      e.regAddrMin = registerNumber(min);
      if (range) {
        const max = allocator.allocate(4);
        e.regAddrMax = registerNumber(max);
        immediates.push({
          kind: 'immediate',
          dreg: e.regAddrMin,
          data: this.at(s.offset, () => encodeDataValue(addrType, range[0])),
        });
        immediates.push({
          kind: 'immediate',
          dreg: e.regAddrMax,
          data: this.at(s.offset, () => encodeDataValue(addrType, range[1])),
        });
      } else
        immediates.push({
          kind: 'immediate',
          dreg: e.regAddrMin,
          data: this.at(s.offset, () => encodeDataValue(addrType, addr)),
        });
    }
    if (port) {
      this.requireTransport(s.offset);
      this.portImmediates(port, allocator, e, immediates, s.offset);
      flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
    }
    this.out.push(...immediates);
    if (flags) e.flags = flags;
    this.out.push(e);
  }

  private portImmediates(
    port: string,
    allocator: SlotAllocator,
    e: { regProtoMin?: number; regProtoMax?: number },
    immediates: NftExpression[],
    offset: number,
  ): void {
    const range = splitRange(port);
    const min = registerNumber(allocator.allocate(4));
    e.regProtoMin = min;
    if (range) {
      const max = registerNumber(allocator.allocate(4));
      e.regProtoMax = max;
      immediates.push({
        kind: 'immediate',
        dreg: min,
        data: this.at(offset, () => encodeDataValue('inet_service', range[0])),
      });
      immediates.push({
        kind: 'immediate',
        dreg: max,
        data: this.at(offset, () => encodeDataValue('inet_service', range[1])),
      });
    } else
      immediates.push({
        kind: 'immediate',
        dreg: min,
        data: this.at(offset, () => encodeDataValue('inet_service', port)),
      });
  }

  /** An anonymous nat map's value type from its first value: address, or address . port. */
  private inferNatValueType(addrType: string, map: RhsExpr): string {
    if (map.t !== 'set') this.fail(map.offset, 'expected @map or { … }');
    const first = map.elements[0]?.value;
    if (!first) this.fail(map.offset, 'a nat map needs key : value elements');
    return first.length === 2 ? `${addrType} . inet_service` : addrType;
  }

  /**
   * A set's key or value type text, as type names (`ipv4_addr . inet_service`) or as typeof
   * expressions (`ip daddr . tcp dport`): the type names, and the protocol matches expressions
   * like `tcp dport` make nft insert.
   */
  resolveTypeText(text: string, offset: number): { types: string[]; dependencies: SelectorDependency[] } {
    const types: string[] = [];
    const dependencies: SelectorDependency[] = [];
    for (const part of typeParts(text)) {
      if (!part.includes(' ')) {
        types.push(part);
        continue;
      }
      const sel = this.at(offset, () => parseSelectorText(part));
      types.push(this.at(offset, () => selectorType(sel, this.family).type));
      dependencies.push(...this.at(offset, () => selectorDependencies(sel, this.family)));
    }
    return { types, dependencies };
  }

  private masquerade(s: Statement & { t: 'masquerade' }): void {
    const e: NftExpression = { kind: 'masq' };
    let flags = this.flagBits(s.flags);
    const immediates: NftExpression[] = [];
    if (s.to !== undefined) {
      if (!s.to.startsWith(':'))
        this.fail(s.offset, 'masquerade takes only a port: to :<port>[-<port>]', s.to);
      this.requireTransport(s.offset);
      this.portImmediates(s.to.slice(1), new SlotAllocator(), e, immediates, s.offset);
      flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
    }
    this.out.push(...immediates);
    if (flags) e.flags = flags;
    this.out.push(e);
  }

  private reject(s: Statement & { t: 'reject' }): void {
    const family = this.family;
    if (!s.with) {
      // An inet rule that already matched its network protocol rejects with that ICMP flavour.
      const network = family === 'inet' ? this.context.get('nfproto') : family === 'ip' ? 'ipv4' : 'ipv6';
      if (network === 'ipv4') this.out.push({ kind: 'reject', type: 0, code: 3 });
      else if (network === 'ipv6') this.out.push({ kind: 'reject', type: 0, code: 4 });
      else this.out.push({ kind: 'reject', type: 2, code: 1 });
      return;
    }
    if (s.with.kind === 'tcp') {
      this.dependencies([{ key: 'l4proto', value: 'tcp' }], s.offset);
      this.out.push({ kind: 'reject', type: 1, code: 0 });
      return;
    }
    // In inet tables an ICMP flavour implies its network protocol; nft puts that match first in the rule.
    if (family === 'inet' && s.with.kind !== 'icmpx') {
      const before = this.out.length;
      this.dependencies([{ key: 'nfproto', value: s.with.kind === 'icmp' ? 'ipv4' : 'ipv6' }], s.offset);
      this.out.unshift(...this.out.splice(before));
    }
    const table = s.with.kind === 'icmp' ? ICMP_CODES : s.with.kind === 'icmpv6' ? ICMPV6_CODES : ICMPX_CODES;
    const code = table[s.with.code];
    if (code === undefined) this.fail(s.offset, `unknown ${s.with.kind} reject code`, s.with.code);
    this.out.push({ kind: 'reject', type: s.with.kind === 'icmpx' ? 2 : 0, code });
  }

  private dynset(s: Statement & { t: 'dynset' }): void {
    const info = this.input.sets.get(s.set);
    if (!info) throw new NftRuleSetError(this.input.rule, s.set, 'is not a set or map of the table');
    this.selectorDeps(s.key, s.offset);
    const allocator = new SlotAllocator();
    const slot = allocator.allocate(selectorSlots(s.key, this.family));
    this.at(s.offset, () => loadSelector(s.key, this.family, slot, this.out));
    const e: NftExpression = { kind: 'dynset', op: s.op, sregKey: registerNumber(slot), set: info.name };
    if (info.setId !== undefined) e.setId = info.setId;
    if (s.timeout !== undefined) e.timeout = this.at(s.offset, () => parseTimeout(s.timeout as string));
    this.out.push(e);
  }
}

/** `10.0.0.1:80`, `10.0.0.1-10.0.0.5:80-90`, `[fd00::1]:80`, `fd00::1` → address and port texts. */
export function splitNatTarget(to: string, family: 'ip' | 'ip6'): { addr?: string; port?: string } {
  if (to.startsWith(':')) return { port: to.slice(1) };
  if (family === 'ip6') {
    const m = /^\[([^\]]+)\](?::(.+))?$/.exec(to);
    if (m) return { addr: m[1] as string, ...(m[2] ? { port: m[2] } : {}) };
    return { addr: to };
  }
  const i = to.lastIndexOf(':');
  return i === -1 ? { addr: to } : { addr: to.slice(0, i), port: to.slice(i + 1) };
}

/** `10s`, `3h`, `1h30m`, `500ms` → milliseconds. */
export function parseTimeout(text: string): bigint {
  const parts = text.match(/[0-9]+(ms|s|m|h|d)/g);
  if (!parts || parts.join('') !== text)
    throw new InvalidFieldError('nft timeout', text, 'is not a duration like 10s, 3h, 1h30m');
  return parts.reduce((sum, p) => {
    const [, n, unit] = /^([0-9]+)(ms|s|m|h|d)$/.exec(p) as RegExpExecArray;
    return sum + BigInt(n as string) * (TIMEOUT_UNITS[unit as string] as bigint);
  }, 0n);
}

/** A selector written alone (`ip daddr`, `numgen random mod 1`), as in a typeof. */
export function parseSelectorText(text: string): SelectorExpr {
  const statements = parseRule(`${text} set 0`);
  const only = statements[0];
  if (statements.length !== 1 || only?.t !== 'set') throw new UnknownSelectorError(text, 'is not a selector');
  return only.target;
}

/** Parse and compile a rule into expressions and the anonymous sets it needs. */
export function compileRuleExpressions(input: CompileExpressionsInput): CompiledExpressions {
  const statements = parseRule(input.rule);
  const compiler = new RuleCompiler(input);
  compiler.compile(statements);
  return { expressions: compiler.out, anonymousSets: compiler.anonymousSets };
}

/**
 * The type names of a set's `typeof` text (`ip daddr . meta l4proto . th dport . numgen random
 * mod 1` → `ipv4_addr . inet_proto . inet_service . integer`), for its key type and lengths.
 */
export function typeofToType(text: string, family: NftFamily): string {
  return typeParts(text)
    .map((part) => {
      if (!part.includes(' ') && !['mark', 'iifname', 'oifname', 'iif', 'oif'].includes(part)) return part;
      return selectorType(parseSelectorText(part), family).type;
    })
    .join(' . ');
}
