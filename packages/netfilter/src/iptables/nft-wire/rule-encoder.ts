// A rule's expressions in iptables-nft's order: the fixed header fields (-i, -o, -p, -s, -d,
// whatever order they were given in), the matches in their order, a counter, the target. Parts
// that repeat across a full sync (comments, protocols, ports, probabilities, marks, verdicts)
// are encoded once and copied afterwards; per-endpoint parts (addresses, DNAT destinations,
// jumps) would only fill the cache, so they are written directly.

import { AttributeWriter } from '../../nftables/netlink/attributes';
import type { IpFamily, Match, PortSpec, Rule, Target } from '../model';
import { IptablesNftUnsupportedError } from './errors';
import { ExpressionWriter } from './expression-writer';
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
      return `p${neg(m.negate)}${m.protocol}`;
    case 'in-interface':
      return `i${neg(m.negate)}${m.name}`;
    case 'out-interface':
      return `o${neg(m.negate)}${m.name}`;
    case 'statistic':
      return m.mode === 'random' ? `r${m.probability}` : undefined;
    case 'conntrack':
      return `k${neg(m.negate)}${m.states.join(',')}`;
    case 'mark':
      return `m${neg(m.negate)}${m.value}/${m.mask}`;
    case 'addrtype':
      return `a${m.sourceType}/${m.destinationType}/${neg(m.negateSource)}/${neg(m.negateDestination)}`;
    case 'port':
      return `t${m.protocol}/${spec(m.sourcePort)}/${spec(m.destinationPort)}/${neg(m.negateSource)}/${neg(m.negateDestination)}`;
    case 'module':
      return m.args.length === 0 ? `M${m.module}` : undefined;
    default:
      return undefined;
  }
}

/** The cache key of a target that repeats across rules; undefined: written directly. */
function targetKey(t: Target): string | undefined {
  switch (t.kind) {
    case 'verdict':
      return `V${t.verdict}`;
    case 'reject':
      return `R${t.with ?? ''}`;
    case 'masquerade':
      return `Q${!!t.randomFully}/${!!t.random}/${spec(t.toPorts)}`;
    case 'mark':
      return `K${t.op}${t.value}/${t.op === 'xset' ? t.mask : ''}`;
    case 'jump':
      // KUBE-MARK-MASQ and the like recur; an endpoint's own chain is jumped to once or twice
      // and fills the cache only up to MAX_FRAGMENTS.
      return `${t.goto ? 'G' : 'J'}${t.chain}`;
    default:
      return undefined;
  }
}

/** Writes rules' expressions into one attribute writer (a rule's NFTA_RULE_EXPRESSIONS nest). */
export class RuleExpressionEncoder {
  private readonly fragments = new Map<string, Buffer>();
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

  /** The cached bytes of `key` copied into the rule: true. False: write it to `writerFor(key)`. */
  private copied(key: string | undefined): boolean {
    const hit = key === undefined ? undefined : this.fragments.get(key);
    if (hit) this.w.raw(hit);
    return hit !== undefined;
  }

  /** Where a part not copied is written: the scratch writer while the cache takes more. */
  private writerFor(key: string | undefined): ExpressionWriter {
    return key !== undefined && this.fragments.size < MAX_FRAGMENTS ? this.cachedOut : this.directOut;
  }

  /** After a part was written by `writerFor(key)`: kept and copied when it went to scratch. */
  private written(key: string | undefined, out: ExpressionWriter): void {
    if (out === this.cachedOut) this.keep(key as string);
  }

  /** After a part was written to the scratch writer: keep it under `key` and copy it into the rule. */
  private keep(key: string): void {
    const bytes = Buffer.from(this.scratch.toBuffer());
    this.scratch.truncate(0);
    this.fragments.set(key, bytes);
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
        const key = matchKey(match);
        if (this.copied(key)) continue;
        const out = this.writerFor(key);
        writeHeaderMatch(out, this.family, match, where);
        this.written(key, out);
      }
      for (const match of rule.matches) {
        if ((HEADER_ORDER as readonly string[]).includes(match.kind)) continue;
        const key = matchKey(match);
        if (this.copied(key)) continue;
        const out = this.writerFor(key);
        if (!writeMatch(out, match, where))
          throw new IptablesNftUnsupportedError(
            String(where),
            `match ${match.kind === 'module' ? `-m ${match.module}` : match.kind}`,
          );
        this.written(key, out);
      }
      this.w.raw(this.counter);
      if (rule.target) this.writeTarget(rule.target, where);
      return this.protocolOf(header[HEADER_ORDER.indexOf('protocol')]);
    } finally {
      header.fill(undefined);
    }
  }

  private writeTarget(target: Target, where: Place): void {
    const key = targetKey(target);
    if (this.copied(key)) return;
    const out = this.writerFor(key);
    if (!writeTarget(out, this.family, target))
      throw new IptablesNftUnsupportedError(
        String(where),
        `target ${target.kind === 'extension' ? target.name : target.kind}`,
      );
    this.written(key, out);
  }

  private protocolOf(match: HeaderMatch | undefined): RuleProtocol | undefined {
    if (match?.kind !== 'protocol') return undefined;
    const number = PROTOCOL_NUMBERS[match.protocol] as number;
    return number === 0 ? undefined : { number, negate: !!match.negate };
  }
}
