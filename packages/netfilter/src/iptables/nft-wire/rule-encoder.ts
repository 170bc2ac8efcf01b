// A rule's expressions in iptables-nft's order: the fixed header fields (-i, -o, -p, -s, -d,
// whatever order they were given in), the matches in their order, a counter, the target. Parts
// that repeat across a full sync (protocols, ports, probabilities, marks, verdicts, jumps) are
// encoded once and copied afterwards (fragment-cache.ts, at most MAX_FRAGMENTS of them);
// per-endpoint parts (addresses, DNAT destinations, comments naming the endpoint) would only fill
// the cache, so they are written directly into the rule.

import { AttributeWriter } from '../../nftables/netlink/attributes';
import type { IpFamily, Match, PortSpec, Rule, Target } from '../model';
import { IptablesNftUnsupportedError } from './errors';
import { ExpressionWriter } from './expression-writer';
import { FragmentCache, FragmentKind } from './fragment-cache';
import type { Place } from './place';
import {
  HEADER_ORDER,
  type HeaderMatch,
  PROTOCOL_NUMBERS,
  writeHeaderMatch,
  writeMatch,
  writeTarget,
} from './rule-expressions';

/**
 * Fragments kept at most: a full sync's recurring parts number in the hundreds; the bound keeps
 * one-off parts (an endpoint's jump) from growing the cache with the cluster.
 */
const MAX_FRAGMENTS = 4096;

/** The `-p` of a rule, for NFTA_RULE_COMPAT (nft_compat checks xt matches against it). */
export interface RuleProtocol {
  number: number;
  negate: boolean;
}

const neg = (negate: boolean | undefined) => (negate ? '!' : '');
const spec = (p: PortSpec | undefined) =>
  p === undefined ? '' : typeof p === 'number' ? `${p}` : `${p[0]}:${p[1]}`;

/** The cache key of a match that repeats across rules; undefined: written directly. */
function matchKey(m: Match): string | undefined {
  switch (m.kind) {
    case 'protocol':
      // Only a negated one: a plain protocol is keyed by its name (keyOfMatch).
      return `p!${m.protocol}`;
    case 'in-interface':
      return `i${neg(m.negate)}${m.name}`;
    case 'out-interface':
      return `o${neg(m.negate)}${m.name}`;
    case 'conntrack':
      return `k${neg(m.negate)}${m.states.join(',')}`;
    case 'mark':
      return `m${neg(m.negate)}${m.value}/${m.mask}`;
    case 'addrtype':
      return `a${m.sourceType}/${m.destinationType}/${neg(m.negateSource)}/${neg(m.negateDestination)}`;
    case 'port':
      return `t${m.protocol}/${spec(m.sourcePort)}/${spec(m.destinationPort)}/${neg(m.negateSource)}/${neg(m.negateDestination)}`;
    default:
      return undefined;
  }
}

/** The cache key of a target that repeats across rules; undefined: written directly. */
function targetKey(t: Target): string | undefined {
  switch (t.kind) {
    case 'reject':
      return `R${t.with ?? ''}`;
    case 'masquerade':
      return `Q${!!t.randomFully}/${!!t.random}/${spec(t.toPorts)}`;
    case 'mark':
      return `K${t.op}${t.value}/${t.op === 'xset' ? t.mask : ''}`;
    default:
      return undefined;
  }
}

/** Writes rules' expressions into one attribute writer (a rule's NFTA_RULE_EXPRESSIONS nest). */
export class RuleExpressionEncoder {
  private readonly fragments = new FragmentCache(MAX_FRAGMENTS);
  /** The kind and key of the part at hand (set by keyOfMatch / keyOfTarget). */
  private kind = 0;
  private key: string | number = '';
  private readonly scratch = new AttributeWriter(1024);
  private readonly cachedOut = new ExpressionWriter(this.scratch);
  private readonly directOut: ExpressionWriter;
  private readonly counter: Buffer;
  /** The rule's header fields by HEADER_ORDER slot (reused: cleared after each rule). */
  private readonly header: (HeaderMatch | undefined)[] = HEADER_ORDER.map(() => undefined);

  constructor(
    private readonly w: AttributeWriter,
    private readonly family: IpFamily,
  ) {
    this.directOut = new ExpressionWriter(w);
    this.cachedOut.counter();
    this.counter = Buffer.from(this.scratch.toBuffer());
    this.scratch.truncate(0);
  }

  /**
   * Sets `kind` and `key` for `match` when its bytes may be cached (false: written directly).
   * The kinds that recur in every rule key on their own string or number.
   */
  private keyOfMatch(match: Match): boolean {
    if (match.kind === 'protocol' && !match.negate) return this.keyed(FragmentKind.protocol, match.protocol);
    if (match.kind === 'module' && match.args.length === 0)
      return this.keyed(FragmentKind.module, match.module);
    if (match.kind === 'statistic' && match.mode === 'random')
      return this.keyed(FragmentKind.statistic, match.probability);
    const key = matchKey(match);
    return key !== undefined && this.keyed(FragmentKind.other, key);
  }

  /** keyOfMatch for a target. */
  private keyOfTarget(target: Target): boolean {
    if (target.kind === 'verdict') return this.keyed(FragmentKind.verdict, target.verdict);
    if (target.kind === 'jump')
      return this.keyed(target.goto ? FragmentKind.goto : FragmentKind.jump, target.chain);
    const key = targetKey(target);
    return key !== undefined && this.keyed(FragmentKind.other, key);
  }

  private keyed(kind: number, key: string | number): true {
    this.kind = kind;
    this.key = key;
    return true;
  }

  /** The cached bytes of the part keyed last copied into the rule: true. False: write it to `writerFor`. */
  private copied(): boolean {
    const hit = this.fragments.get(this.kind, this.key);
    if (hit) this.w.raw(hit);
    return hit !== undefined;
  }

  /** Where a part not copied is written: the scratch writer if it has a key and the cache takes more. */
  private writerFor(keyed: boolean): ExpressionWriter {
    return keyed && !this.fragments.full ? this.cachedOut : this.directOut;
  }

  /** After a part was written by `writerFor`: kept under the key and copied when it went to scratch. */
  private written(out: ExpressionWriter): void {
    if (out !== this.cachedOut) return;
    const bytes = Buffer.from(this.scratch.toBuffer());
    this.scratch.truncate(0);
    this.fragments.set(this.kind, this.key, bytes);
    this.w.raw(bytes);
  }

  /** Appends `rule`'s expressions; returns its `-p` (for NFTA_RULE_COMPAT) when it has one. */
  write(rule: Rule, where: Place): RuleProtocol | undefined {
    const header = this.header;
    try {
      for (const match of rule.matches) {
        const slot = (HEADER_ORDER as readonly string[]).indexOf(match.kind);
        if (slot < 0) continue;
        if (header[slot]) throw new IptablesNftUnsupportedError(String(where), `second ${match.kind}`);
        header[slot] = match as HeaderMatch;
      }
      for (const match of header) {
        if (!match) continue;
        const keyed = this.keyOfMatch(match);
        if (keyed && this.copied()) continue;
        const out = this.writerFor(keyed);
        writeHeaderMatch(out, this.family, match, where);
        this.written(out);
      }
      for (const match of rule.matches) {
        if ((HEADER_ORDER as readonly string[]).includes(match.kind)) continue;
        const keyed = this.keyOfMatch(match);
        if (keyed && this.copied()) continue;
        const out = this.writerFor(keyed);
        if (!writeMatch(out, match, where))
          throw new IptablesNftUnsupportedError(
            String(where),
            `match ${match.kind === 'module' ? `-m ${match.module}` : match.kind}`,
          );
        this.written(out);
      }
      this.w.raw(this.counter);
      if (rule.target) this.writeTarget(rule.target, where);
      return this.protocolOf(header[HEADER_ORDER.indexOf('protocol')]);
    } finally {
      header.fill(undefined);
    }
  }

  private writeTarget(target: Target, where: Place): void {
    const keyed = this.keyOfTarget(target);
    if (keyed && this.copied()) return;
    const out = this.writerFor(keyed);
    if (!writeTarget(out, this.family, target))
      throw new IptablesNftUnsupportedError(
        String(where),
        `target ${target.kind === 'extension' ? target.name : target.kind}`,
      );
    this.written(out);
  }

  private protocolOf(match: HeaderMatch | undefined): RuleProtocol | undefined {
    if (match?.kind !== 'protocol') return undefined;
    const number = PROTOCOL_NUMBERS[match.protocol] as number;
    return number === 0 ? undefined : { number, negate: !!match.negate };
  }
}
