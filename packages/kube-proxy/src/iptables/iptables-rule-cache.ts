import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { EndpointInfo } from '../model/endpoint';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServicePort } from '../model/service-port';
import type { BaseSetup } from './base-setup';
import type { IptablesBackendOptions } from './build-iptables-ruleset';
import { isServiceChainName, serviceChainNames } from './chain-names';
import { type JumpRule, renderRule } from './iptables-ruleset';
import { NO_LOCAL_DETECTOR } from './local-detector';
import {
  FILTER_TOP_CHAINS,
  NAT_TOP_CHAINS,
  writeForwardRules,
  writeMasqueradeRules,
  writeNodePortsJumps,
} from './top-level-rules';
import { type RuleSink, writeServiceRules } from './write-service-rules';

/** "filter KUBE-SERVICES", "nat KUBE-NODEPORTS", …: one of our top-level chains. */
type TopChainId = string;

/** One service port's rendered rules, kept between syncs. */
interface ServiceFragment {
  /** The inputs it was rendered from (compared by identity: ProxyState keeps unchanged ones). */
  readonly sp: ServicePort;
  readonly eps: readonly EndpointInfo[] | undefined;
  /** Its rule lines in each top-level chain, "\n"-terminated, in rule order. */
  readonly top: ReadonlyMap<TopChainId, string>;
  /** Its own NAT chains (KUBE-SVC/SVL/EXT/FW/SEP), declaration order. */
  readonly chains: readonly string[];
  /** The rules of those chains; dropped once written, a full sync renders them again. */
  own: string | undefined;
  readonly filterRules: number;
  readonly natRules: number;
  readonly noLocalInternal: boolean;
  readonly noLocalExternal: boolean;
}

/** What one sync would write; pass it to `commit` once iptables-restore accepted `payload`. */
export interface PreparedIptablesSync {
  readonly kind: 'full' | 'partial';
  /** iptables-restore input (for `--noflush`); empty when nothing changed. */
  readonly payload: string;
  /** A second payload, for after `payload`: missing jumps from built-in chains ('' if none). */
  readonly jumpPayload: string;
  /** Rule counts of the complete ruleset (kubeproxy_sync_proxy_rules_iptables_total). */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
  /** Service ports whose rules were rendered for this sync. */
  readonly renderedServices: number;
  /** Top-level chains rewritten ("table CHAIN"). */
  readonly rewrittenTopChains: readonly string[];
  /** Per-service NAT chains (re)written by the payload. */
  readonly writtenServiceChains: number;
  /** Stale per-service NAT chains the payload deletes. */
  readonly deletedChains: readonly string[];
  /** @internal The record of the kernel's state after this payload. */
  readonly next: {
    readonly fragments: ReadonlyMap<string, ServiceFragment>;
    readonly top: ReadonlyMap<TopChainId, string>;
  };
}

const topId = (table: 'filter' | 'nat', chain: string): TopChainId => `${table} ${chain}`;

/** Collects rendered lines of top-level chains per chain. */
class TopSink implements RuleSink {
  readonly lines = new Map<TopChainId, string>();
  count = 0;
  constructor(private readonly table: 'filter' | 'nat') {}
  chain(): void {}
  rule(...args: string[]): void {
    this.count++;
    const id = topId(this.table, args[1]!);
    this.lines.set(id, `${this.lines.get(id) ?? ''}${renderRule(args)}\n`);
  }
}

/** Collects a Service's own chains and their rendered rules. */
class OwnSink implements RuleSink {
  readonly chains: string[] = [];
  text = '';
  count = 0;
  chain(name: string): void {
    this.chains.push(name);
  }
  rule(...args: string[]): void {
    this.count++;
    this.text += `${renderRule(args)}\n`;
  }
}

/**
 * iptables mode's incremental rule writer. It keeps every service port's rendered rules
 * keyed by the ServicePort and endpoint list they came from, and a record of what the last
 * accepted payload left in the kernel. A partial sync renders only service ports whose
 * inputs changed, rewrites only the top-level chains whose text changed, and deletes the
 * per-service chains its own record says are no longer used — no kernel listing, so its cost
 * follows the change, not the cluster. A full sync renders and writes everything and takes
 * stale chains from a listing of the kernel, repairing any drift.
 */
export class IptablesRuleCache {
  private readonly fragments = new Map<string, ServiceFragment>();
  private sortedKeys: string[] | undefined;
  /** The snapshot `renderAll` rendered every fragment for (a full sync then need not again). */
  private renderedFor: ProxySnapshot | undefined;
  /** What the kernel holds, per the last committed payload. */
  private kernelFragments: ReadonlyMap<string, ServiceFragment> = new Map();
  private kernelTop: ReadonlyMap<TopChainId, string> = new Map();
  /** Rules of our top-level chains that do not depend on Services. */
  private readonly staticHead: ReadonlyMap<TopChainId, string>;
  private readonly staticTail: ReadonlyMap<TopChainId, string>;
  private readonly staticCounts: { filter: number; nat: number };

  constructor(
    private readonly options: IptablesBackendOptions = {},
    family: ProxySnapshot['family'] = 'IPv4',
  ) {
    const head = { filter: new TopSink('filter'), nat: new TopSink('nat') };
    writeMasqueradeRules(head.nat, options);
    const tail = { filter: new TopSink('filter'), nat: new TopSink('nat') };
    writeNodePortsJumps(tail.nat, options, family === 'IPv6');
    writeForwardRules(tail.filter, options);
    this.staticHead = new Map([...head.filter.lines, ...head.nat.lines]);
    this.staticTail = new Map([...tail.filter.lines, ...tail.nat.lines]);
    this.staticCounts = {
      filter: head.filter.count + tail.filter.count,
      nat: head.nat.count + tail.nat.count,
    };
  }

  /**
   * Renders what this sync must write. `full`: every chain, and `existingNatChains` (a
   * listing of the kernel's nat table) decides which per-service chains are stale; `setup`
   * adds canary chains to the payload and missing jumps from built-in chains to `jumpPayload`.
   */
  prepare(
    snapshot: ProxySnapshot,
    sync: { full: true; existingNatChains: Iterable<string>; setup?: BaseSetup } | { full: false },
  ): PreparedIptablesSync {
    let rendered = 0;
    if (sync.full && this.renderedFor !== snapshot) this.renderAll(snapshot);
    this.renderedFor = undefined;
    if (sync.full) rendered = this.fragments.size;
    for (const key of this.fragments.keys()) {
      if (!snapshot.services.has(key)) {
        this.fragments.delete(key);
        this.sortedKeys = undefined;
      }
    }
    const counts = { filter: this.staticCounts.filter, nat: this.staticCounts.nat };
    let noLocalInternal = 0;
    let noLocalExternal = 0;
    for (const [key, sp] of snapshot.services) {
      const eps = snapshot.endpoints.get(key);
      let f = this.fragments.get(key);
      // After renderAll (full sync) every fragment is fresh for this snapshot.
      const stale = !sync.full && (f?.sp !== sp || f.eps !== eps || snapshot.changedServices.has(sp.service));
      if (!f || stale) {
        if (!f) this.sortedKeys = undefined;
        f = this.render(snapshot, key, sp, eps);
        this.fragments.set(key, f);
        rendered++;
      }
      counts.filter += f.filterRules;
      counts.nat += f.natRules;
      if (f.noLocalInternal) noLocalInternal++;
      if (f.noLocalExternal) noLocalExternal++;
    }
    this.sortedKeys ??= [...this.fragments.keys()].sort();

    const written: ServiceFragment[] = [];
    const deleted: string[] = [];
    const dirtyTop = new Set<TopChainId>();
    if (sync.full) {
      written.push(...this.fragments.values());
      for (const id of this.topChainIds()) dirtyTop.add(id);
      const active = new Set<string>();
      for (const f of written) for (const c of f.chains) active.add(c);
      for (const c of sync.existingNatChains) if (isServiceChainName(c) && !active.has(c)) deleted.push(c);
    } else {
      for (const [key, cached] of this.fragments) {
        const old = this.kernelFragments.get(key);
        if (old === cached) continue;
        let f = cached;
        if (f.own === undefined) {
          // Rendered for a payload that was never committed, then written: render it again.
          f = this.render(snapshot, key, f.sp, f.eps);
          this.fragments.set(key, f);
          rendered++;
        }
        written.push(f);
        markChangedTop(dirtyTop, old, f);
        if (old) for (const c of chainsNotIn(old.chains, f.chains)) deleted.push(c);
      }
      for (const [key, old] of this.kernelFragments) {
        if (this.fragments.has(key)) continue;
        markChangedTop(dirtyTop, old, undefined);
        deleted.push(...old.chains);
      }
    }
    deleted.sort();

    // Top-level chains: rebuilt only where a Service's lines changed, written only if different.
    const nextTop = new Map(this.kernelTop);
    const rewritten: TopChainId[] = [];
    for (const id of this.topChainIds()) {
      if (!dirtyTop.has(id)) continue;
      const text = this.topText(id);
      if (!sync.full && this.kernelTop.get(id) === text) continue;
      nextTop.set(id, text);
      rewritten.push(id);
    }

    const payload = renderPayload(rewritten, nextTop, written, deleted, sync.full ? sync.setup : undefined);
    const nextFragments = new Map(this.fragments);
    return {
      kind: sync.full ? 'full' : 'partial',
      payload,
      jumpPayload: sync.full && sync.setup ? renderJumpPayload(sync.setup.insert) : '',
      ruleCounts: counts,
      noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
      renderedServices: rendered,
      rewrittenTopChains: rewritten,
      writtenServiceChains: written.reduce((n, f) => n + f.chains.length, 0),
      deletedChains: deleted,
      next: { fragments: nextFragments, top: nextTop },
    };
  }

  /**
   * Renders every service port afresh, as a full sync must (Node labels or anything else may
   * have changed every Service's rules). `prepare(snapshot, { full: true, … })` does it itself;
   * calling it first lets the caller overlap it with reading the kernel.
   */
  renderAll(snapshot: ProxySnapshot): number {
    this.fragments.clear();
    this.sortedKeys = undefined;
    for (const [key, sp] of snapshot.services)
      this.fragments.set(key, this.render(snapshot, key, sp, snapshot.endpoints.get(key)));
    this.renderedFor = snapshot;
    return this.fragments.size;
  }

  /** iptables-restore accepted `prepared.payload`: the kernel now holds what it describes. */
  commit(prepared: PreparedIptablesSync): void {
    this.kernelFragments = prepared.next.fragments;
    this.kernelTop = prepared.next.top;
    // Written rules are only needed again by a full sync, which renders them afresh.
    for (const f of prepared.next.fragments.values()) f.own = undefined;
  }

  /** Every top-level chain, filter first, in declaration order. */
  private topChainIds(): TopChainId[] {
    return [
      ...FILTER_TOP_CHAINS.map((c) => topId('filter', c)),
      ...NAT_TOP_CHAINS.map((c) => topId('nat', c)),
    ];
  }

  private topText(id: TopChainId): string {
    const parts = [this.staticHead.get(id) ?? ''];
    for (const key of this.sortedKeys!) {
      const t = this.fragments.get(key)!.top.get(id);
      if (t !== undefined) parts.push(t);
    }
    parts.push(this.staticTail.get(id) ?? '');
    return parts.join('');
  }

  private render(
    snapshot: ProxySnapshot,
    key: string,
    sp: ServicePort,
    eps: readonly EndpointInfo[] | undefined,
  ): ServiceFragment {
    const filter = new TopSink('filter');
    const nat = new TopSink('nat');
    const own = new OwnSink();
    const cat = categorizeEndpoints(eps ?? [], sp, snapshot.nodeName, snapshot.nodeLabels);
    const r = writeServiceRules(sp, cat, serviceChainNames(key, sp.protocol), {
      filter,
      nat,
      svcNat: own,
      activeNatChains: { add: () => undefined },
      detector: this.options.localDetector ?? NO_LOCAL_DETECTOR,
      masqueradeAll: this.options.masqueradeAll ?? false,
      options: this.options,
    });
    return {
      sp,
      eps,
      top: new Map([...filter.lines, ...nat.lines]),
      chains: own.chains,
      own: own.text,
      filterRules: filter.count,
      natRules: nat.count + own.count,
      noLocalInternal: r.noLocalInternal,
      noLocalExternal: r.noLocalExternal,
    };
  }
}

function markChangedTop(
  dirty: Set<TopChainId>,
  old: ServiceFragment | undefined,
  cur: ServiceFragment | undefined,
): void {
  for (const [id, text] of old?.top ?? []) if (cur?.top.get(id) !== text) dirty.add(id);
  for (const [id, text] of cur?.top ?? []) if (old?.top.get(id) !== text) dirty.add(id);
}

function chainsNotIn(chains: readonly string[], keep: readonly string[]): string[] {
  const k = new Set(keep);
  return chains.filter((c) => !k.has(c));
}

/**
 * The jumps from built-in chains a full sync found missing. A payload of its own, run after
 * the main one has created the chains they jump to: a payload writing to built-in chains cannot
 * use iptables-nft's widened cache (see @nodeagent/netfilter's widenNftCache), which the big
 * main payload needs. `-I CHAIN` without a rule number inserts at the top even into a built-in
 * chain iptables-nft has not created yet (which has no rule 1), so they go in reverse to end
 * up in list order.
 */
function renderJumpPayload(insert: readonly JumpRule[]): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const rules = insert.filter((j) => j.table === table).reverse();
    if (rules.length === 0) continue;
    out.push(`*${table}\n`);
    for (const j of rules) out.push(`${renderRule(['-I', j.chain, ...j.args])}\n`);
    out.push('COMMIT\n');
  }
  return out.join('');
}

/**
 * One `--noflush` payload: declaring a chain creates or flushes it, so each rewritten chain is
 * declared then refilled; chains not named are left as they are (ours and everyone else's).
 */
function renderPayload(
  rewritten: readonly TopChainId[],
  top: ReadonlyMap<TopChainId, string>,
  written: readonly ServiceFragment[],
  deleted: readonly string[],
  setup: BaseSetup | undefined,
): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat', 'mangle'] as const) {
    const tops = rewritten.filter((id) => id.startsWith(`${table} `));
    const services = table === 'nat' ? written : [];
    const stale = table === 'nat' ? deleted : [];
    const declare = setup?.declare.filter((d) => d.table === table) ?? [];
    if (tops.length + services.length + stale.length + declare.length === 0) continue;
    out.push(`*${table}\n`);
    for (const d of declare) out.push(`:${d.chain} - [0:0]\n`);
    for (const id of tops) out.push(`:${id.slice(table.length + 1)} - [0:0]\n`);
    for (const f of services) for (const c of f.chains) out.push(`:${c} - [0:0]\n`);
    // A chain must be empty to be deleted: declaring it flushes it.
    for (const c of stale) out.push(`:${c} - [0:0]\n`);
    for (const id of tops) out.push(top.get(id)!);
    for (const f of services) out.push(f.own ?? '');
    for (const c of stale) out.push(`-X ${c}\n`);
    out.push('COMMIT\n');
  }
  return out.join('');
}
