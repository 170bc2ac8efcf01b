import type { NftTransaction } from '@nodeagent/netfilter';
import { IncrementalNftTable } from '@nodeagent/netfilter/nftables';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { EndpointInfo } from '../model/endpoint';
import type { IPFamily } from '../model/ip-family';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServicePort } from '../model/service-port';
import { baseRuleset } from './base-ruleset';
import type { EndpointSlots } from './endpoint-slots';
import { NFTABLES_TABLE } from './nftables-names';
import { type NftablesBackendOptions, type NftFamilyContext, nftFamilyContext } from './nftables-options';
import { servicePortRuleset } from './service-port-ruleset';

/** Elements indexed per step of a first fill's indexing: about as long as writing one Service port. */
const INDEX_STEP_ELEMENTS = 512;

/** Owner name of the Service-independent part (service port keys always contain a "/"). */
const BASE_OWNER = 'base';

interface Written {
  readonly sp: ServicePort;
  readonly endpoints: readonly EndpointInfo[] | undefined;
  readonly nodeLabels: Readonly<Record<string, string>>;
  readonly noLocalInternal: boolean;
  readonly noLocalExternal: boolean;
  readonly slots: EndpointSlots;
}

/**
 * The kube-proxy table of one family, kept between syncs. `update(snapshot)` rewrites only the
 * Service ports whose ServicePort, endpoints or node labels are not the very objects it last saw
 * (the proxy state replaces exactly the entries that changed); when only endpoints changed it
 * looks at just the Services the snapshot names, so a sync costs in proportion to what changed,
 * not to the number of Services. The transactions come from the table: a full
 * replacement, or the difference to what was last committed.
 */
export class NftablesRuleset {
  /**
   * Large sets (the endpoint maps and hairpin set at 250k endpoints) are declared with a size
   * at each full replacement, so the kernel does not grow their hash tables insert by insert
   * within the batch (issue #54: half the kernel's time of that sync); a set outgrowing it
   * makes the next sync a full one.
   */
  readonly table = new IncrementalNftTable(
    { kind: 'table', comment: 'rules for kube-proxy' },
    { sizeLargeSets: true },
  );
  private readonly ctx: NftFamilyContext;
  private readonly written = new Map<string, Written>();
  /**
   * Port keys written per Service ("ns/name"): the key itself for the usual one-port Service
   * (a Set per Service is ~250 bytes, 2.5 MiB at 10k), a Set once it has several.
   */
  private readonly byService = new Map<string, string | Set<string>>();
  private lastServices: ProxySnapshot['services'] | undefined;
  private lastNodeLabels: ProxySnapshot['nodeLabels'] | undefined;
  private noLocalInternal = 0;
  private noLocalExternal = 0;

  constructor(family: IPFamily, options: NftablesBackendOptions = {}) {
    this.ctx = nftFamilyContext(family, options);
    this.table.set(BASE_OWNER, baseRuleset(this.ctx));
  }

  /** Brings the table up to the snapshot; returns how many Service ports were rewritten. */
  update(snapshot: ProxySnapshot): number {
    const steps = this.updateSteps(snapshot);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * `update`, handing the event loop back (`pause`) after every `every` Service ports it
   * writes: at 5,000 Services × 50 endpoints a full update is over a second of CPU, which
   * would otherwise hold off signals (SIGTERM), health checks and informer events.
   */
  async updateInSteps(snapshot: ProxySnapshot, pause: () => Promise<void>, every = 500): Promise<number> {
    const steps = this.updateSteps(snapshot);
    for (let n = 1; ; n++) {
      const step = steps.next();
      if (step.done) return step.value;
      if (n % every === 0) await pause();
    }
  }

  /**
   * Whether update(snapshot) walks every Service port (the full path) rather than only those of
   * the Services whose endpoints changed (one endpoint change: one port, well under a millisecond).
   */
  walksAll(snapshot: ProxySnapshot): boolean {
    return snapshot.services !== this.lastServices || snapshot.nodeLabels !== this.lastNodeLabels;
  }

  /** The update, yielding after each Service port written on the full path. */
  private *updateSteps(snapshot: ProxySnapshot): Generator<void, number> {
    // Same Service map and node labels as last time: only endpoints changed, and only for the
    // Services the snapshot names, whose port keys are the ones we wrote for them.
    if (!this.walksAll(snapshot)) {
      let rewritten = 0;
      for (const svc of snapshot.changedServices) {
        const keys = this.byService.get(svc);
        for (const key of typeof keys === 'string' ? [keys] : (keys ?? []))
          if (this.write(key, snapshot.services.get(key)!, snapshot)) rewritten++;
      }
      return rewritten;
    }
    let rewritten = 0;
    for (const [key, w] of this.written) {
      if (snapshot.services.has(key)) continue;
      this.forget(key, w);
      rewritten++;
    }
    for (const [key, sp] of snapshot.services) {
      if (this.write(key, sp, snapshot)) rewritten++;
      yield;
    }
    // A first fill's element indexes, in steps too (the sync's next read would build them at once).
    for (const _ of this.table.indexSteps(INDEX_STEP_ELEMENTS)) yield;
    this.lastServices = snapshot.services;
    this.lastNodeLabels = snapshot.nodeLabels;
    return rewritten;
  }

  /** (Re)writes one Service port unless its inputs are the very objects last written. */
  private write(key: string, sp: ServicePort, snapshot: ProxySnapshot): boolean {
    const endpoints = snapshot.endpoints.get(key);
    const w = this.written.get(key);
    if (w && w.sp === sp && w.endpoints === endpoints && w.nodeLabels === snapshot.nodeLabels) return false;
    const cat = categorizeEndpoints(endpoints ?? [], sp, snapshot.nodeName, snapshot.nodeLabels);
    const r = servicePortRuleset(sp, cat, this.ctx, this.table.packer, w?.slots);
    // The table replaces the old contribution itself: what the port gives again unchanged
    // (most of its elements when one endpoint moved) is then left alone instead of deleted and added.
    if (w) this.forget(key, w, false);
    this.table.set(key, r.contribution);
    this.written.set(key, {
      sp,
      endpoints,
      nodeLabels: snapshot.nodeLabels,
      noLocalInternal: r.noLocalInternal,
      noLocalExternal: r.noLocalExternal,
      slots: r.slots,
    });
    const keys = this.byService.get(sp.service);
    if (keys === undefined) this.byService.set(sp.service, key);
    else if (typeof keys !== 'string') keys.add(key);
    else if (keys !== key) this.byService.set(sp.service, new Set([keys, key]));
    if (r.noLocalInternal) this.noLocalInternal++;
    if (r.noLocalExternal) this.noLocalExternal++;
    return true;
  }

  /** Drops what was written for `key`; from the table too unless a new contribution follows. */
  private forget(key: string, w: Written, fromTable = true): void {
    if (fromTable) this.table.set(key, undefined);
    this.written.delete(key);
    const keys = this.byService.get(w.sp.service);
    if (keys === key) this.byService.delete(w.sp.service);
    else if (typeof keys !== 'string') {
      keys?.delete(key);
      if (keys?.size === 0) this.byService.delete(w.sp.service);
    }
    if (w.noLocalInternal) this.noLocalInternal--;
    if (w.noLocalExternal) this.noLocalExternal--;
  }

  get noLocalEndpoints(): { internal: number; external: number } {
    return { internal: this.noLocalInternal, external: this.noLocalExternal };
  }

  /** Replaces the whole table (start-up, after a failure, periodically). */
  fullTransaction(): NftTransaction {
    return this.table.fullTransaction();
  }

  /**
   * fullTransaction() as the `nft -f` script for `family`'s kube-proxy table, rendered without
   * building an operation per element (see IncrementalNftTable.fullScript).
   */
  fullScript(): string {
    return this.table.fullScript(this.ctx.ipX, NFTABLES_TABLE);
  }

  /** What changed since the last commit; undefined when only a full replacement will do. */
  diffTransaction(): NftTransaction | undefined {
    return this.table.diffTransaction();
  }

  /** The kernel holds the current contents. */
  commit(): void {
    this.table.commit();
  }
}
