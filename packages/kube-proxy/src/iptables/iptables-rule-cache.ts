import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { EndpointInfo } from '../model/endpoint';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServicePort } from '../model/service-port';
import { type JumpRule, renderRule } from '../shared/iptables-ruleset';
import { NO_LOCAL_DETECTOR } from '../shared/local-detector';
import type { BaseSetup } from './base-setup';
import { isServiceChainName, serviceChainNames, trimChainNameCaches } from './chain-names';
import type { IptablesBackendOptions } from './iptables-backend-options';
import { isLargeClusterMode } from './large-cluster-mode';
import { SyncStreamNotFinishedError } from './sync-stream-not-finished-error';
import {
  countsLocalhostNodePorts,
  FILTER_TOP_CHAINS,
  filterTopChains,
  NAT_TOP_CHAINS,
  writeForwardRules,
  writeLocalnetFirewall,
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
  /** Rendered in upstream's large cluster mode (no comments on per-endpoint rules). */
  readonly largeClusterMode: boolean;
  /** @internal The record of the kernel's state after this payload. */
  readonly next: {
    readonly fragments: ReadonlyMap<string, ServiceFragment>;
    readonly top: ReadonlyMap<TopChainId, string>;
  };
}

/** A full sync being produced while iptables-restore reads it (see IptablesRuleCache.streamFullSync). */
export interface IptablesSyncStream {
  /** The payload, in chunks, produced as they are consumed. */
  readonly chunks: AsyncIterable<string>;
  /** What the payload will roughly hold, known before producing it (for the restore strategy). */
  readonly expected: { readonly chains: number; readonly rules: number; readonly builtinRules: number };
  /**
   * What follows `chunks` in the same run, not cache-widened: the filter section and any
   * missing jumps from built-in chains (`jumpPayload`). Only once `chunks` is
   * exhausted. Kept out of the widened stream because a `-S` in a section after the big nat
   * COMMIT makes iptables-nft list the whole ruleset again (2 s at 10k Services), and built-in
   * chains must not be written in widened sections at all.
   */
  tail(): string;
  /** The sync, as `prepare` would have returned it (`payload` = chunks + the filter section); only once `chunks` is exhausted. */
  result(): PreparedIptablesSync;
}

/** Characters per streamed chunk: about what a pipe holds (64 KiB). */
const STREAM_CHUNK_CHARS = 64 * 1024;

const topId = (table: 'filter' | 'nat', chain: string): TopChainId => [table, chain].join(' ');

/** Collects rendered lines of top-level chains per chain. */
class TopSink implements RuleSink {
  readonly lines = new Map<TopChainId, string>();
  count = 0;
  constructor(private readonly table: 'filter' | 'nat') {}
  chain(): void {}
  rule(...args: string[]): void {
    this.count++;
    const id = topId(this.table, args[1]!);
    // Flat (Array.join), not a cons string: the cache keeps these lines between syncs.
    this.lines.set(id, [this.lines.get(id) ?? '', renderRule(args), '\n'].join(''));
  }
}

/** Collects a Service's own chains and their rendered rules. */
class OwnSink implements RuleSink {
  readonly chains: string[] = [];
  private readonly lines: string[] = [];
  chain(name: string): void {
    this.chains.push(name);
  }
  rule(...args: string[]): void {
    this.lines.push(renderRule(args));
  }
  get count(): number {
    return this.lines.length;
  }
  /**
   * One flat string, joined once: appending line by line would keep a tree of pieces alive
   * per Service until the payload is joined (a large share of a 10k-Service render's GC work).
   */
  get text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
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
  /** The mode the cached fragments were rendered in (see isLargeClusterMode). */
  private largeClusterMode = false;
  /** What the kernel holds, per the last committed payload. */
  private kernelFragments: ReadonlyMap<string, ServiceFragment> = new Map();
  private kernelTop: ReadonlyMap<TopChainId, string> = new Map();
  /** Rules of our top-level chains that do not depend on Services. */
  private readonly staticHead: ReadonlyMap<TopChainId, string>;
  private readonly staticTail: ReadonlyMap<TopChainId, string>;
  private readonly staticCounts: { filter: number; nat: number };
  /** The filter chains every full sync declares (KUBE-FIREWALL only with localhost NodePorts). */
  private readonly filterChains: readonly string[];
  /** NodePort rules get their counted 127.0.0.0/8 twin. */
  private readonly localhostNodePortsCounted: boolean;

  constructor(
    private readonly options: IptablesBackendOptions = {},
    family: ProxySnapshot['family'] = 'IPv4',
  ) {
    const isIPv6 = family === 'IPv6';
    this.filterChains = filterTopChains(options, isIPv6);
    this.localhostNodePortsCounted = countsLocalhostNodePorts(options, isIPv6);
    const head = { filter: new TopSink('filter'), nat: new TopSink('nat') };
    writeMasqueradeRules(head.nat, options);
    writeLocalnetFirewall(head.filter, options, isIPv6);
    const tail = { filter: new TopSink('filter'), nat: new TopSink('nat') };
    writeNodePortsJumps(tail.nat, options, isIPv6);
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
    if (!sync.full) return this.preparePartial(snapshot);
    const tally = new FullSyncTally(this.staticCounts);
    const parts = [...this.renderFullSync(snapshot, tally)];
    const { tail, otherTables, summary } = this.finishFullSync(tally, sync);
    parts.push(tail, otherTables);
    return { ...summary, payload: parts.join('') };
  }

  /**
   * A full sync whose payload is produced while it is rendered, for
   * `iptables-restore` to parse one chunk while the next is rendered. The nat section comes
   * first with each service port's chains as soon as they are rendered; `kernel` (the
   * listing a full sync needs, typically still being read) is awaited only after the last
   * one, and every COMMIT follows it: if rendering or the kernel read fails, the stream throws
   * before any COMMIT and a restore fed by it applies nothing. The payload equals what
   * `prepare` returns for the same inputs; with `keepPayload: false` the chunks are not kept
   * and the result's `payload` is ''.
   */
  streamFullSync(
    snapshot: ProxySnapshot,
    kernel: Promise<{ existingNatChains: Iterable<string>; setup?: BaseSetup }>,
    { keepPayload = true }: { keepPayload?: boolean } = {},
  ): IptablesSyncStream {
    const produced: string[] = [];
    const keep = (part: string) => {
      if (keepPayload) produced.push(part);
    };
    let summary: Omit<PreparedIptablesSync, 'payload'> | undefined;
    let otherTables = '';
    const chunks = async function* (this: IptablesRuleCache) {
      const tally = new FullSyncTally(this.staticCounts);
      for (const part of this.renderFullSync(snapshot, tally)) {
        keep(part);
        yield part;
      }
      const finished = this.finishFullSync(tally, await kernel);
      keep(finished.tail);
      otherTables = finished.otherTables;
      summary = finished.summary;
      yield finished.tail;
    }.call(this);
    const done = () => {
      if (!summary) throw new SyncStreamNotFinishedError();
      return summary;
    };
    return {
      chunks,
      expected: estimateFullSync(snapshot),
      tail: () => {
        const { jumpPayload } = done();
        return otherTables + jumpPayload;
      },
      result: () => withLazyPayload(done(), keepPayload ? [...produced, otherTables] : []),
    };
  }

  /** The nat section up to the last service port's chains, rendered (or reused) one by one. */
  private *renderFullSync(snapshot: ProxySnapshot, tally: FullSyncTally): Generator<string, void> {
    // renderAll may have run for this snapshot (overlapped with the kernel read).
    const reuse = this.renderedFor === snapshot;
    this.renderedFor = undefined;
    if (!reuse) {
      this.fragments.clear();
      this.largeClusterMode = isLargeClusterMode(snapshot, this.options.largeClusterEndpointsThreshold);
    }
    // Set once every fragment exists: a stream abandoned half-way must not leave it pointing
    // at missing fragments (the next sync renders what is missing).
    this.sortedKeys = undefined;
    const keys = [...snapshot.services.keys()].sort();
    // Top-level chains first: declaring them (which flushes them in this transaction) lets
    // the service chains' rules jump to KUBE-MARK-MASQ; their rules come last.
    let parts = ['*nat\n', ...NAT_TOP_CHAINS.map((c) => `:${c} - [0:0]\n`)];
    let size = 0;
    for (const key of keys) {
      let f = reuse ? this.fragments.get(key) : undefined;
      if (!f) {
        const sp = snapshot.services.get(key)!;
        f = this.render(snapshot, key, sp, snapshot.endpoints.get(key));
        this.fragments.set(key, f);
      }
      tally.add(f);
      for (const c of f.chains) parts.push(`:${c} - [0:0]\n`);
      const own = f.own ?? '';
      parts.push(own);
      size += own.length + 32 * f.chains.length;
      if (size >= STREAM_CHUNK_CHARS) {
        yield parts.join('');
        parts = [];
        size = 0;
      }
    }
    this.sortedKeys = keys;
    if (parts.length > 0) yield parts.join('');
  }

  /** The rest of a full sync's payload once every service port is rendered, and its summary. */
  /** Service ports and endpoint chains every fragment names, as a full sync has just rendered them. */
  private liveChainCounts(): { servicePorts: number; endpoints: number } {
    let endpoints = 0;
    for (const fragment of this.fragments.values())
      for (const chain of fragment.chains) if (chain.startsWith('KUBE-SEP-')) endpoints++;
    return { servicePorts: this.fragments.size, endpoints };
  }

  private finishFullSync(
    tally: FullSyncTally,
    kernel: { existingNatChains: Iterable<string>; setup?: BaseSetup },
  ): { tail: string; otherTables: string; summary: Omit<PreparedIptablesSync, 'payload'> } {
    const deleted: string[] = [];
    trimChainNameCaches(this.liveChainCounts());
    // The set of active chains (100k names at 10k Services) only when the kernel has any of ours.
    let active: Set<string> | undefined;
    for (const c of kernel.existingNatChains) {
      if (!isServiceChainName(c)) continue;
      active ??= new Set([...this.fragments.values()].flatMap((f) => f.chains));
      if (!active.has(c)) deleted.push(c);
    }
    deleted.sort();
    const nextTop = new Map<TopChainId, string>();
    const rewritten = this.topChainIds();
    for (const id of rewritten) nextTop.set(id, this.topText(id));
    // Chains the setup needs to exist; those this payload declares anyway are left out.
    const declare = (table: BaseSetup['declare'][number]['table']) =>
      (kernel.setup?.declare ?? [])
        .filter((d) => d.table === table && !(table === 'filter' && this.filterChains.includes(d.chain)))
        .map((d) => `:${d.chain} - [0:0]\n`)
        .join('');
    const out: string[] = [declare('nat')];
    // A chain must be empty to be deleted: declaring it flushes it.
    for (const c of deleted) out.push(`:${c} - [0:0]\n`);
    for (const c of NAT_TOP_CHAINS) out.push(nextTop.get(topId('nat', c))!);
    for (const c of deleted) out.push(`-X ${c}\n`);
    out.push('COMMIT\n');
    // The small tables after the big one, in their own string (see IptablesSyncStream.tail).
    const others = ['*filter\n', declare('filter')];
    for (const c of this.filterChains) others.push(`:${c} - [0:0]\n`);
    for (const c of this.filterChains) others.push(nextTop.get(topId('filter', c))!);
    others.push('COMMIT\n');
    return {
      tail: out.join(''),
      otherTables: others.join(''),
      summary: {
        kind: 'full',
        jumpPayload: kernel.setup ? renderJumpPayload(kernel.setup.insert, kernel.setup.remove) : '',
        ruleCounts: tally.counts,
        noLocalEndpoints: { internal: tally.noLocalInternal, external: tally.noLocalExternal },
        renderedServices: this.fragments.size,
        rewrittenTopChains: rewritten,
        writtenServiceChains: tally.chains,
        deletedChains: deleted,
        largeClusterMode: this.largeClusterMode,
        next: { fragments: new Map(this.fragments), top: nextTop },
      },
    };
  }

  /** Only what changed since the last committed payload (see the class comment). */
  private preparePartial(snapshot: ProxySnapshot): PreparedIptablesSync {
    let rendered = 0;
    this.renderedFor = undefined;
    for (const key of this.fragments.keys()) {
      if (!snapshot.services.has(key)) {
        this.fragments.delete(key);
        this.sortedKeys = undefined;
      }
    }
    // Crossing the threshold changes the endpoint rules of every service port: re-render all.
    const large = isLargeClusterMode(snapshot, this.options.largeClusterEndpointsThreshold);
    const modeFlipped = large !== this.largeClusterMode;
    this.largeClusterMode = large;
    const counts = { filter: this.staticCounts.filter, nat: this.staticCounts.nat };
    let noLocalInternal = 0;
    let noLocalExternal = 0;
    for (const [key, sp] of snapshot.services) {
      const eps = snapshot.endpoints.get(key);
      let f = this.fragments.get(key);
      const stale = modeFlipped || f?.sp !== sp || f.eps !== eps || snapshot.changedServices.has(sp.service);
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
    deleted.sort();

    // Top-level chains: rebuilt only where a Service's lines changed, written only if different.
    const nextTop = new Map(this.kernelTop);
    const rewritten: TopChainId[] = [];
    for (const id of this.topChainIds()) {
      if (!dirtyTop.has(id)) continue;
      const text = this.topText(id);
      if (this.kernelTop.get(id) === text) continue;
      nextTop.set(id, text);
      rewritten.push(id);
    }

    return {
      kind: 'partial',
      payload: renderPayload(rewritten, nextTop, written, deleted),
      jumpPayload: '',
      ruleCounts: counts,
      noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
      renderedServices: rendered,
      rewrittenTopChains: rewritten,
      writtenServiceChains: written.reduce((n, f) => n + f.chains.length, 0),
      deletedChains: deleted,
      largeClusterMode: large,
      next: { fragments: new Map(this.fragments), top: nextTop },
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
    this.largeClusterMode = isLargeClusterMode(snapshot, this.options.largeClusterEndpointsThreshold);
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
      ...this.filterChains.map((c) => topId('filter', c)),
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
      detector: this.options.localDetector ?? NO_LOCAL_DETECTOR,
      masqueradeAll: this.options.masqueradeAll ?? false,
      options: this.options,
      largeClusterMode: this.largeClusterMode,
      localhostNodePortsCounted: this.localhostNodePortsCounted,
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
 * The jumps from built-in chains a full sync found missing. Sections of their own, sent after
 * the main payload has created the chains they jump to (a second run, or the unwidened tail of
 * a streamed one): sections writing to built-in chains cannot use iptables-nft's widened cache
 * (see @nodeagent/netfilter's widenNftCache), which the big main payload needs. `-I CHAIN` without a rule number inserts at the top even into a built-in
 * chain iptables-nft has not created yet (which has no rule 1). In list order, as upstream
 * prepends each missing jump in turn: the kernel then lists a chain's jumps reversed (INPUT:
 * KUBE-FIREWALL, KUBE-PROXY-FIREWALL, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES).
 */
function renderJumpPayload(insert: readonly JumpRule[], remove: readonly JumpRule[] = []): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const rules = insert.filter((j) => j.table === table);
    const stale = remove.filter((j) => j.table === table);
    if (rules.length + stale.length === 0) continue;
    out.push(`*${table}\n`);
    for (const j of stale) out.push(`${renderRule(['-D', j.chain, ...j.args])}\n`);
    for (const j of rules) out.push(`${renderRule(['-I', j.chain, ...j.args])}\n`);
    out.push('COMMIT\n');
  }
  return out.join('');
}

/**
 * A partial sync's `--noflush` payload: declaring a chain creates or flushes it, so each
 * rewritten chain is declared then refilled; chains not named are left as they are (ours and
 * everyone else's).
 */
function renderPayload(
  rewritten: readonly TopChainId[],
  top: ReadonlyMap<TopChainId, string>,
  written: readonly ServiceFragment[],
  deleted: readonly string[],
): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const tops = rewritten.filter((id) => id.startsWith(`${table} `));
    const services = table === 'nat' ? written : [];
    const stale = table === 'nat' ? deleted : [];
    if (tops.length + services.length + stale.length === 0) continue;
    out.push(`*${table}\n`);
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

/** Counts and no-local-endpoint tallies of a full sync, service port by port. */
class FullSyncTally {
  readonly counts: { filter: number; nat: number };
  noLocalInternal = 0;
  noLocalExternal = 0;
  /** Per-service chains written. */
  chains = 0;
  constructor(base: { filter: number; nat: number }) {
    this.counts = { ...base };
  }
  add(f: ServiceFragment): void {
    this.counts.filter += f.filterRules;
    this.counts.nat += f.natRules;
    if (f.noLocalInternal) this.noLocalInternal++;
    if (f.noLocalExternal) this.noLocalExternal++;
    this.chains += f.chains.length;
  }
}

/**
 * What a full sync's payload will roughly hold, from the snapshot alone (before rendering):
 * per service port with endpoints a service chain and a chain per endpoint, about three rules
 * per endpoint. Only the restore strategy's size heuristic uses it.
 */
function estimateFullSync(snapshot: ProxySnapshot): { chains: number; rules: number; builtinRules: number } {
  let chains = FILTER_TOP_CHAINS.length + NAT_TOP_CHAINS.length;
  let rules = 0;
  for (const key of snapshot.services.keys()) {
    const n = snapshot.endpoints.get(key)?.length ?? 0;
    chains += n > 0 ? n + 1 : 0;
    rules += 2 + 3 * n;
  }
  return { chains, rules, builtinRules: 0 };
}

/**
 * `summary` plus a `payload` joined from `parts` only when read (then kept): a streamed 10k-
 * Service payload is ~30 MB, already in iptables-restore by then; joining it costs ~40 ms that
 * nobody needs unless they look at it. The property is not enumerable, so spreading or
 * rest-destructuring the sync does not join it.
 */
function withLazyPayload(
  summary: Omit<PreparedIptablesSync, 'payload'>,
  parts: string[],
): PreparedIptablesSync {
  let joined: string | undefined;
  return Object.defineProperty({ ...summary }, 'payload', {
    get: () => {
      joined ??= parts.join('');
      return joined;
    },
    enumerable: false,
  }) as PreparedIptablesSync;
}
