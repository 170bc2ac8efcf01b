import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { type Clock, systemClock, type Wire } from '@nodeagent/primitives';
import type { IPFamily } from '../model/ip-family';
import { type ProxySnapshot, ProxyState } from '../model/proxy-snapshot';
import { BoundedFrequencyRunner } from '../runtime/bounded-frequency-runner';
import type { KubeProxyMetrics } from '../runtime/metrics';
import type { ProxierHealth } from '../runtime/proxier-health';
import { type ProxyLogger, silentLogger } from '../runtime/proxy-logger';
import type { ConntrackCleaner } from './conntrack-cleaner';
import { reconcileConntrack } from './conntrack-reconciler';
import type { ProxyHandler } from './proxy-handler';
import { SyncStages } from './sync-stages';

/** Outcome of one sync, kept in a proxier's `history`. */
export interface SyncResult {
  kind: 'full' | 'partial';
  ok: boolean;
  durationMs: number;
  error?: unknown;
}

/** The options every proxier mode takes for its sync loop. */
export interface ProxierBaseOptions {
  family: IPFamily;
  nodeName: string;
  /** minSyncPeriod in ms (default 1000). */
  minSyncPeriodMs?: number;
  /** syncPeriod in ms (default 30000); also the retry delay after a failed sync. */
  syncPeriodMs?: number;
  clock?: Clock;
  metrics?: KubeProxyMetrics;
  health?: ProxierHealth;
  logger?: ProxyLogger;
}

const DEFAULT_MIN_SYNC_PERIOD_MS = 1000;
const DEFAULT_SYNC_PERIOD_MS = 30_000;
/** How many sync results `history` keeps. */
const HISTORY_LIMIT = 100;

/**
 * The sync loop all proxier modes share: informer events fold into a ProxyState, and once
 * Services and EndpointSlices have both synced, each pending change asks a bounded-frequency
 * runner for a `syncProxyRules()`. Modes supply that sync and use the bookkeeping helpers
 * here (history, health and sync metrics, retry after failure).
 */
export abstract class ProxierBase implements ProxyHandler {
  readonly family: IPFamily;
  protected readonly state: ProxyState;
  protected readonly runner: BoundedFrequencyRunner;
  protected readonly clock: Clock;
  protected readonly log: ProxyLogger;
  private servicesSynced = false;
  private endpointSlicesSynced = false;
  /** When the first change still pending was folded in (SyncStages.now), for the sync's debug line. */
  private firstPendingAt: number | undefined;
  /** firstPendingAt as the last checkoutSnapshot took it: when its sync's oldest change was tracked. */
  protected checkedOutPendingSince: number | undefined;
  /** Results of every sync, newest last (bounded), for tests and `explain`. */
  readonly history: SyncResult[] = [];

  /**
   * `maxSyncIntervalMs`: the longest the runner waits for a sync without changes (upstream's
   * maxInterval), syncPeriod unless the mode says otherwise. Upstream v1.36 gives the
   * iptables and nftables proxiers its fixed FullSyncPeriod (1 h) there and syncPeriod only as
   * the retry interval; ipvs keeps syncPeriod (kubernetes/kubernetes#135631).
   */
  constructor(
    private readonly base: ProxierBaseOptions,
    maxSyncIntervalMs?: number,
  ) {
    this.family = base.family;
    this.clock = base.clock ?? systemClock;
    this.log = base.logger ?? silentLogger;
    this.state = new ProxyState(base.family, base.nodeName);
    this.runner = new BoundedFrequencyRunner('sync-proxy-rules', () => this.syncProxyRules(), {
      minIntervalMs: base.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
      maxIntervalMs: maxSyncIntervalMs ?? this.syncPeriodMs,
      clock: this.clock,
      onError: (err) => this.log.error({ err }, 'sync failed unexpectedly'),
    });
  }

  /** One sync. Public for tests; normally called by the runner. */
  abstract syncProxyRules(): Promise<SyncResult | undefined>;

  /** Starts the sync runner; the first sync runs once Services and EndpointSlices are synced. */
  start(): void {
    this.runner.start();
    this.runIfInitialized();
  }

  /** Stops the runner; resolves when no sync is running. */
  async stop(): Promise<void> {
    this.runner.stop();
    await this.runner.whenIdle();
  }

  /** Resolves when no sync is running (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }

  /** Whether both Services and EndpointSlices have been synced. */
  isInitialized(): boolean {
    return this.servicesSynced && this.endpointSlicesSynced;
  }

  // --- event handlers (wire informers here) ---

  /** Records the Service; a sync follows if that changed anything. */
  onServiceAdd(svc: Wire<V1Service>): void {
    this.changed(this.state.onService(undefined, svc));
  }
  /** Records the change; a sync follows if that changed anything. */
  onServiceUpdate(oldSvc: Wire<V1Service>, svc: Wire<V1Service>): void {
    this.changed(this.state.onService(oldSvc, svc));
  }
  /** Records the deletion; a sync follows if that changed anything. */
  onServiceDelete(svc: Wire<V1Service>): void {
    this.changed(this.state.onService(svc, undefined));
  }
  /** Marks Services synced; syncs if EndpointSlices are too. */
  onServicesSynced(): void {
    this.servicesSynced = true;
    this.runIfInitialized();
  }
  /** Records the EndpointSlice; a sync follows if that changed anything. */
  onEndpointSliceAdd(slice: Wire<V1EndpointSlice>): void {
    this.changed(this.state.onEndpointSlice(slice, false));
  }
  /** Records the change; a sync follows if that changed anything. */
  onEndpointSliceUpdate(_old: Wire<V1EndpointSlice>, slice: Wire<V1EndpointSlice>): void {
    this.changed(this.state.onEndpointSlice(slice, false));
  }
  /** Records the deletion; a sync follows if that changed anything. */
  onEndpointSliceDelete(slice: Wire<V1EndpointSlice>): void {
    this.changed(this.state.onEndpointSlice(slice, true));
  }
  /** Marks EndpointSlices synced; syncs if Services are too. */
  onEndpointSlicesSynced(): void {
    this.endpointSlicesSynced = true;
    this.runIfInitialized();
  }
  /** Takes the Node's labels (topology) into account; a sync follows if they changed. */
  onNode(node: Wire<V1Node>): void {
    this.changed(this.state.setNodeLabels(node.metadata?.labels ?? {}));
  }

  /** syncPeriod: the retry delay after a failure (and, unless the mode says otherwise, the runner's longest interval). */
  protected get syncPeriodMs(): number {
    return this.base.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  }

  /**
   * An event was folded into the state; `pending` says whether it changed anything. As upstream's
   * change trackers and Sync(), in every mode: the pending-changes gauges follow each event, and
   * a sync queued once initialized stamps sync_proxy_rules_last_queued_timestamp_seconds (which,
   * against last_timestamp, tells an operator a sync is overdue).
   */
  protected changed(pending: boolean): void {
    const m = this.base.metrics;
    if (m) {
      const p = this.state.pendingChanges();
      m.serviceChangesPending.set(p.services);
      m.endpointChangesPending.set(p.endpoints);
    }
    if (!pending) return;
    this.firstPendingAt ??= SyncStages.now();
    this.base.health?.queuedUpdate(this.family);
    if (this.isInitialized())
      m?.syncProxyRulesLastQueuedTimestamp.set({ ip_family: this.family }, this.clock.now() / 1000);
    this.runIfInitialized();
  }

  /** The pending changes folded into a snapshot, counted in the change totals, nothing pending after. */
  protected checkoutSnapshot(): ProxySnapshot {
    const snapshot = this.state.snapshot();
    this.checkedOutPendingSince = this.firstPendingAt;
    this.firstPendingAt = undefined;
    const m = this.base.metrics;
    if (m) {
      m.serviceChangesTotal.inc(snapshot.serviceChanges);
      m.endpointChangesTotal.inc(snapshot.endpointChanges);
      m.serviceChangesPending.set(0);
      m.endpointChangesPending.set(0);
    }
    return snapshot;
  }

  /** Syncs only start once both Services and EndpointSlices have been listed. */
  protected runIfInitialized(): void {
    if (this.isInitialized()) this.runner.run();
  }

  /** After a successful sync: tell health it is fresh, observe its duration and latency. */
  protected syncSucceeded(
    kind: SyncResult['kind'],
    start: number,
    end: number,
    snapshot: ProxySnapshot,
  ): void {
    this.base.health?.updated(this.family);
    const m = this.base.metrics;
    if (!m) return;
    m.observeSync(this.family, kind, (end - start) / 1000, end);
    m.observeNetworkProgramming(this.family, snapshot.lastChangeTriggerTimes, end);
  }

  /** The sync_proxy_rules_no_local_endpoints_total gauges for this family. */
  protected recordNoLocalEndpoints(noLocal: { internal: number; external: number }): void {
    const m = this.base.metrics;
    if (!m) return;
    m.noLocalEndpointsTotal.set({ traffic_policy: 'internal', ip_family: this.family }, noLocal.internal);
    m.noLocalEndpointsTotal.set({ traffic_policy: 'external', ip_family: this.family }, noLocal.external);
  }

  /**
   * After a successful sync: reconcile the family's UDP conntrack entries with the snapshot's
   * Services and serving endpoints (upstream's conntrack.CleanStaleEntries), best-effort, and
   * record the reconciler's duration and deletions as upstream does (not after a failed list).
   */
  protected async clearConntrack(ct: ConntrackCleaner | undefined, snapshot: ProxySnapshot): Promise<void> {
    if (!ct) return;
    const start = this.clock.now();
    // Only UDP ports have entries to judge: the snapshot's index of them, not every Service (#54).
    const result = await reconcileConntrack(ct, snapshot.udpPorts, snapshot.endpoints);
    if (result.error !== undefined)
      this.log.warn({ err: result.error, deleted: result.deleted }, 'conntrack reconcile failed');
    const m = this.base.metrics;
    if (!result.listed || !m) return;
    const labels = { ip_family: this.family };
    m.conntrackReconcilerLatency.observe(labels, (this.clock.now() - start) / 1000);
    m.conntrackReconcilerDeletedTotal.inc(labels, result.deleted);
  }

  /** After a failed sync: try again one syncPeriod from now rather than waiting for a change. */
  protected retryAfterFailure(): void {
    this.runner.retryAfter(this.syncPeriodMs);
  }

  /** Appends a sync's result to `history`, dropping the oldest beyond the limit. */
  protected recordResult(result: SyncResult): void {
    this.history.push(result);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
  }
}
