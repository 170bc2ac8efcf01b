import type { V1Node } from '@kubernetes/client-node';
import { isApplyError } from '@nodeagent/netfilter';
import { type IptablesCanaryMonitor, monitorIptablesCanary } from '@nodeagent/netfilter/iptables';
import type { Wire } from '@nodeagent/primitives';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import { KUBE_PROXY_NFACCT_COUNTERS, type NfacctClient } from '../runtime/nfacct';
import { registerNfacctMetrics } from '../runtime/nfacct-metrics';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { ConntrackCleaner } from '../shared/conntrack-cleaner';
import type { IptablesExecutor } from '../shared/iptables-executor';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from '../shared/proxier-base';
import { syncServiceHealth } from '../shared/sync-service-health';
import { readKernelForFullSync } from './base-setup';
import { KUBE_PROXY_CANARY } from './chain-names';
import type { IptablesBackendOptions } from './iptables-backend-options';
import { IptablesRuleCache, type PreparedIptablesSync } from './iptables-rule-cache';

export type { SyncResult } from '../shared/proxier-base';

/**
 * Even without failures, rewrite everything this often to repair any drift; also the runner's
 * longest wait without changes, as upstream v1.36's iptables proxier passes its FullSyncPeriod
 * (1 h) as the runner's maxInterval and syncPeriod as the retry interval (and the canary
 * check's) (pkg/proxy/iptables/proxier.go NewProxier, runner.NewBoundedFrequencyRunner).
 */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;

/** The tables holding our canary chain, the one checked every syncPeriod first (upstream's order). */
const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;

/** iptables.minSyncPeriod / iptables.syncPeriod are the base options; syncPeriod is also the canary check interval. */
export interface IptablesProxierOptions extends ProxierBaseOptions {
  executor: IptablesExecutor;
  backend?: IptablesBackendOptions;
  serviceHealth?: ServiceHealthServer;
  conntrack?: ConntrackCleaner;
  /**
   * Creates upstream's nfacct counters on each full sync (rules then count INVALID drops and
   * localhost NodePort packets in them) and publishes them as metrics when `metrics` is given.
   * Without it, or where the kernel refuses a counter, rules go without that `-m nfacct`.
   */
  nfacct?: NfacctClient;
  /**
   * Keep the last payload readable as `lastPayload` (default true; tests and benchmarks read
   * it). False: `lastPayload` is '' and a sync's payload is garbage once written; a streamed
   * full sync's is the whole rule set (~5 MB at 1k Services), held until the next sync.
   */
  keepLastPayload?: boolean;
}

/**
 * The iptables-mode proxier: collects Service/EndpointSlice/Node events, and on the
 * bounded-frequency schedule turns a snapshot into rules and applies them with
 * iptables-restore. Full syncs happen at start, after a failure, on node label change,
 * when the canary chain disappears and hourly; other syncs rewrite only the chains of changed
 * Services and the top-level chains whose rules changed (see IptablesRuleCache).
 */
export class IptablesProxier extends ProxierBase {
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  /** utiliptables' Monitor on our canary chains, from start() to stop(). */
  private canary: IptablesCanaryMonitor | undefined;
  private stopped = true;
  private rules: IptablesRuleCache;
  /** The nfacct counters the current rule cache renders rules for (sorted). */
  private nfacctCounters: readonly string[] = [];
  /** iptables refused a payload using `-m nfacct` (counters exist, no xt_nfacct match): render without. */
  private nfacctMatchRefused = false;
  /** The last sync prepared (its payload is joined only if someone reads lastPayload). */
  private lastPrepared: PreparedIptablesSync | undefined;
  /** What the last sync rendered and wrote (for tests, benchmarks and debugging). */
  lastSync: Omit<PreparedIptablesSync, 'next' | 'payload' | 'jumpPayload'> | undefined;

  /** The last payload given to iptables-restore ('' when a sync had nothing to write). */
  get lastPayload(): string {
    return this.lastPrepared?.payload ?? '';
  }

  constructor(private readonly opts: IptablesProxierOptions) {
    super(opts, FORCED_FULL_SYNC_INTERVAL_MS);
    this.rules = new IptablesRuleCache(opts.backend, opts.family);
    if (opts.nfacct && opts.metrics) registerNfacctMetrics(opts.metrics.registry, opts.nfacct, this.log);
  }

  /**
   * Ensures the nfacct counters, as upstream on every full sync, and re-renders everything when
   * the set that exists changed (a partial sync never needs to: the counters outlive us).
   */
  private async ensureNfacctCounters(): Promise<void> {
    const nfacct = this.opts.nfacct;
    if (!nfacct || this.nfacctMatchRefused) return;
    const present: string[] = [];
    for (const name of KUBE_PROXY_NFACCT_COUNTERS) {
      try {
        await nfacct.ensure(name);
        present.push(name);
      } catch (err) {
        this.log.error(
          { err, counter: name },
          'Failed to create nfacct counter; the corresponding metric will not be updated',
        );
      }
    }
    present.sort();
    this.useNfacctCounters(present);
  }

  /** Renders rules for these counters from now on (a new cache: the next sync is a full one). */
  private useNfacctCounters(counters: readonly string[]): void {
    if (counters.join() === this.nfacctCounters.join()) return;
    this.nfacctCounters = counters;
    this.rules = new IptablesRuleCache({ ...this.opts.backend, nfacctCounters: counters }, this.opts.family);
  }

  /**
   * A kernel can have nfacct objects but not the iptables match using them; then every payload
   * would fail. The first failure naming nfacct turns the counted rules off for good (the
   * retry, a full sync, writes the rules without them), as where counters cannot be created.
   */
  private refuseNfacctRulesIf(err: unknown): void {
    if (this.nfacctCounters.length === 0 || !/nfacct/i.test(err instanceof Error ? err.message : String(err)))
      return;
    this.nfacctMatchRefused = true;
    this.useNfacctCounters([]);
    this.log.error({ err }, 'iptables refused the nfacct match; writing rules without nfacct counters');
  }

  override start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.runner.start();
    // As upstream's NewProxier: someone flushing our tables (firewalld reload, iptables -F)
    // deletes the canaries too, and the full sync it forces writes everything again.
    this.canary = monitorIptablesCanary({
      client: this.opts.executor,
      canary: KUBE_PROXY_CANARY,
      tables: CANARY_TABLES,
      reload: () => this.forceFullSync(),
      intervalMs: this.syncPeriodMs,
      clock: this.clock,
      logger: this.log,
    });
    this.runIfInitialized();
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    this.canary?.stop();
    await super.stop();
  }

  /** Our own Node: a label change can change topology decisions for every Service. */
  override onNode(node: Wire<V1Node>): void {
    if (this.state.setNodeLabels(node.metadata?.labels ?? {})) {
      this.needFullSync = true;
      this.changed(true);
    }
  }

  /** Forces a full resync at the next opportunity. */
  forceFullSync(): void {
    this.needFullSync = true;
    this.runner.run();
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const full = this.needFullSync || start - this.lastFullSync >= FORCED_FULL_SYNC_INTERVAL_MS;
    const kind = full ? 'full' : 'partial';
    // Cleared now, not on success, so a force request arriving mid-sync is not lost.
    if (full) this.needFullSync = false;
    const exec = this.opts.executor;
    const snapshot = this.checkoutSnapshot();
    let result: SyncResult;
    try {
      let prepared: PreparedIptablesSync;
      let applied = false;
      if (full) {
        await this.ensureNfacctCounters();
        // Only a full sync reads the kernel; partial syncs trust the cache's record of what it
        // wrote. iptables-save runs while this process renders every Service.
        const reading = readKernelForFullSync(exec);
        reading.catch(() => undefined); // awaited below; a render failure must not leave it unhandled
        const kernel = reading.then((k) => ({ existingNatChains: k.natChains, setup: k.setup }));
        if (exec.restoreStream) {
          // …and iptables-restore parses each chunk while the next is rendered. The stream
          // awaits the kernel read before its first COMMIT; a failure kills the restore first.
          // The filter section and missing jumps from built-in chains follow in the same run,
          // not cache-widened (see IptablesSyncStream.tail).
          const stream = this.rules.streamFullSync(snapshot, kernel, {
            keepPayload: this.opts.keepLastPayload ?? true,
          });
          await exec.restoreStream(stream.chunks, stream.expected, stream.tail);
          prepared = stream.result();
          applied = true;
        } else {
          this.rules.renderAll(snapshot);
          prepared = this.rules.prepare(snapshot, { full: true, ...(await kernel) });
        }
      } else {
        prepared = this.rules.prepare(snapshot, { full: false });
      }
      const { jumpPayload, next: _next, ...rest } = prepared;
      // A streamed sync's payload is a lazy, non-enumerable property: not in `rest`.
      const { payload: _payload, ...summary } = rest as typeof rest & { payload?: string };
      this.lastPrepared = (this.opts.keepLastPayload ?? true) ? prepared : undefined;
      this.lastSync = summary;
      // Nothing changed in any chain we own: skip the iptables-restore run entirely.
      if (!applied && prepared.payload !== '') await exec.restore(prepared.payload);
      // Jumps into our chains only once they exist (see IptablesRuleCache's renderJumpPayload).
      if (jumpPayload !== '' && !applied) await exec.restore(jumpPayload);
      this.rules.commit(prepared);
      const end = this.clock.now();
      if (full) this.lastFullSync = start;
      result = { kind, ok: true, durationMs: end - start };
      this.afterSuccess(kind, start, end, snapshot, prepared.ruleCounts, prepared.noLocalEndpoints);
      await this.afterSyncSideEffects(snapshot);
    } catch (err) {
      // The snapshot's changes are already folded into our maps; a full sync rebuilds from them.
      this.needFullSync = true;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      const failures = full ? 'iptablesRestoreFailuresTotal' : 'iptablesPartialRestoreFailuresTotal';
      this.opts.metrics?.[failures].inc({ ip_family: this.family });
      // iptables-restore names the payload line it rejected; log it so the bad rule is visible.
      const where = isApplyError(err) ? { line: err.line, lineText: err.lineText } : {};
      this.log.error({ err, kind, family: this.family, ...where }, 'failed to sync iptables rules');
      this.refuseNfacctRulesIf(err);
      this.retryAfterFailure();
    }
    this.recordResult(result);
    this.log.debug(
      { kind, ok: result.ok, ms: result.durationMs, family: this.family },
      'synced iptables rules',
    );
    return result;
  }

  private afterSuccess(
    kind: 'full' | 'partial',
    start: number,
    end: number,
    snapshot: ProxySnapshot,
    ruleCounts: { filter: number; nat: number },
    noLocal: { internal: number; external: number },
  ): void {
    this.syncSucceeded(kind, start, end, snapshot);
    this.opts.metrics?.iptablesRulesTotal.set({ table: 'filter', ip_family: this.family }, ruleCounts.filter);
    this.opts.metrics?.iptablesRulesTotal.set({ table: 'nat', ip_family: this.family }, ruleCounts.nat);
    this.recordNoLocalEndpoints(noLocal);
  }

  private async afterSyncSideEffects(snapshot: ProxySnapshot): Promise<void> {
    if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
    await this.clearConntrack(this.opts.conntrack, snapshot);
  }
}
