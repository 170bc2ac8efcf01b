import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { ApplyError } from '@nodeagent/netfilter';
import {
  buildIptablesRuleset,
  IPTABLES_JUMP_RULES,
  type IptablesBackendOptions,
} from '../iptables/build-iptables-ruleset';
import { KUBE_PROXY_CANARY } from '../iptables/chain-names';
import type { IptablesExecutor, IptablesTableName } from '../iptables/iptables-executor';
import { renderRestorePayload } from '../iptables/iptables-ruleset';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { IPFamily } from '../model/ip-family';
import { type ProxySnapshot, ProxyState } from '../model/proxy-snapshot';
import { BoundedFrequencyRunner } from '../runtime/bounded-frequency-runner';
import { type Clock, systemClock } from '../runtime/clock';
import type { KubeProxyMetrics } from '../runtime/metrics';
import type { ProxierHealth } from '../runtime/proxier-health';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { ConntrackCleaner } from './conntrack-cleaner';
import { type ProxyLogger, silentLogger } from './logger';
import type { ProxyHandler } from './proxy-handler';

const CANARY_TABLES: readonly IptablesTableName[] = ['mangle', 'nat', 'filter'];
/** Even without failures, rewrite everything this often to repair any drift. */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;

export interface IptablesProxierOptions {
  family: IPFamily;
  nodeName: string;
  executor: IptablesExecutor;
  backend?: IptablesBackendOptions;
  /** iptables.minSyncPeriod in ms (default 1000). */
  minSyncPeriodMs?: number;
  /** iptables.syncPeriod in ms (default 30000); also the canary check interval. */
  syncPeriodMs?: number;
  clock?: Clock;
  metrics?: KubeProxyMetrics;
  health?: ProxierHealth;
  serviceHealth?: ServiceHealthServer;
  conntrack?: ConntrackCleaner;
  logger?: ProxyLogger;
}

export interface SyncResult {
  kind: 'full' | 'partial';
  ok: boolean;
  durationMs: number;
  error?: unknown;
}

/**
 * The iptables-mode proxier: collects Service/EndpointSlice/Node events, and on the
 * bounded-frequency schedule turns a snapshot into rules and applies them with
 * iptables-restore. Full syncs happen at start, after a failure, on node label change,
 * when the canary chain disappears and hourly; other syncs rewrite only changed Services.
 */
export class IptablesProxier implements ProxyHandler {
  readonly family: IPFamily;
  private readonly state: ProxyState;
  private readonly runner: BoundedFrequencyRunner;
  private readonly clock: Clock;
  private readonly log: ProxyLogger;
  private servicesSynced = false;
  private endpointSlicesSynced = false;
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  private canaryTimer: unknown;
  private stopped = true;
  /** Results of every sync, newest last (bounded), for tests and `explain`. */
  readonly history: SyncResult[] = [];
  lastPayload = '';

  constructor(private readonly opts: IptablesProxierOptions) {
    this.family = opts.family;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.state = new ProxyState(opts.family, opts.nodeName);
    this.runner = new BoundedFrequencyRunner('sync-proxy-rules', () => this.syncProxyRules(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 1000,
      maxIntervalMs: opts.syncPeriodMs ?? 30_000,
      clock: this.clock,
      onError: (err) => this.log.error({ err }, 'sync failed unexpectedly'),
    });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.runner.start();
    this.scheduleCanaryCheck();
    if (this.isInitialized()) this.runner.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.runner.stop();
    if (this.canaryTimer !== undefined) this.clock.clearTimeout(this.canaryTimer);
    await this.runner.whenIdle();
  }

  // --- event handlers (wire informers here) ---

  onServiceAdd(svc: V1Service): void {
    this.changed(this.state.onService(undefined, svc));
  }
  onServiceUpdate(oldSvc: V1Service, svc: V1Service): void {
    this.changed(this.state.onService(oldSvc, svc));
  }
  onServiceDelete(svc: V1Service): void {
    this.changed(this.state.onService(svc, undefined));
  }
  onServicesSynced(): void {
    this.servicesSynced = true;
    if (this.isInitialized()) this.runner.run();
  }
  onEndpointSliceAdd(slice: V1EndpointSlice): void {
    this.changed(this.state.onEndpointSlice(slice, false));
  }
  onEndpointSliceUpdate(_old: V1EndpointSlice, slice: V1EndpointSlice): void {
    this.changed(this.state.onEndpointSlice(slice, false));
  }
  onEndpointSliceDelete(slice: V1EndpointSlice): void {
    this.changed(this.state.onEndpointSlice(slice, true));
  }
  onEndpointSlicesSynced(): void {
    this.endpointSlicesSynced = true;
    if (this.isInitialized()) this.runner.run();
  }
  /** Our own Node: a label change can change topology decisions for every Service. */
  onNode(node: V1Node): void {
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

  /** Resolves when no sync is running (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }

  isInitialized(): boolean {
    return this.servicesSynced && this.endpointSlicesSynced;
  }

  private changed(pending: boolean): void {
    const p = this.state.pendingChanges();
    this.opts.metrics?.serviceChangesPending.set(p.services);
    this.opts.metrics?.endpointChangesPending.set(p.endpoints);
    if (!pending) return;
    this.opts.metrics?.syncProxyRulesLastQueuedTimestamp.set(this.clock.now() / 1000);
    this.opts.health?.queuedUpdate(this.family);
    if (this.isInitialized()) this.runner.run();
  }

  private scheduleCanaryCheck(): void {
    if (this.stopped) return;
    this.canaryTimer = this.clock.setTimeout(() => {
      void this.checkCanary().finally(() => this.scheduleCanaryCheck());
    }, this.opts.syncPeriodMs ?? 30_000);
  }

  /** Someone flushed our tables (firewalld reload, iptables -F): the canary tells us to rewrite everything. */
  async checkCanary(): Promise<boolean> {
    if (!this.isInitialized() || this.lastFullSync === Number.NEGATIVE_INFINITY) return true;
    for (const table of CANARY_TABLES) {
      let present = false;
      try {
        present = await this.opts.executor.chainExists(table, KUBE_PROXY_CANARY);
      } catch {
        present = false;
      }
      if (!present) {
        this.log.warn({ table, family: this.family }, 'canary chain missing, forcing full resync');
        this.forceFullSync();
        return false;
      }
    }
    return true;
  }

  /** One sync. Public for tests; normally called by the runner. */
  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const full = this.needFullSync || start - this.lastFullSync >= FORCED_FULL_SYNC_INTERVAL_MS;
    const kind = full ? 'full' : 'partial';
    // Cleared now, not on success, so a force request arriving mid-sync is not lost.
    if (full) this.needFullSync = false;
    const exec = this.opts.executor;
    const snapshot = this.state.snapshot();
    this.opts.metrics?.serviceChangesTotal.inc(snapshot.serviceChanges);
    this.opts.metrics?.endpointChangesTotal.inc(snapshot.endpointChanges);
    this.opts.metrics?.serviceChangesPending.set(0);
    this.opts.metrics?.endpointChangesPending.set(0);
    let result: SyncResult;
    try {
      if (full) await this.ensureBaseChains();
      const existing = await exec.listChains('nat');
      const built = buildIptablesRuleset(
        { snapshot, onlyServices: full ? undefined : snapshot.changedServices, existingNatChains: existing },
        this.opts.backend,
      );
      const payload = renderRestorePayload(built.ruleset);
      this.lastPayload = payload;
      await exec.restore(payload);
      const end = this.clock.now();
      if (full) this.lastFullSync = start;
      result = { kind, ok: true, durationMs: end - start };
      this.afterSuccess(kind, start, end, snapshot, built.ruleCounts, built.noLocalEndpoints);
      await this.afterSyncSideEffects(snapshot);
    } catch (err) {
      // The snapshot's changes are already folded into our maps; a full sync rebuilds from them.
      this.needFullSync = true;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      if (full) this.opts.metrics?.iptablesRestoreFailuresTotal.inc();
      else this.opts.metrics?.iptablesPartialRestoreFailuresTotal.inc();
      // iptables-restore names the payload line it rejected; log it so the bad rule is visible.
      const where = err instanceof ApplyError ? { line: err.line, lineText: err.lineText } : {};
      this.log.error({ err, kind, family: this.family, ...where }, 'failed to sync iptables rules');
      this.runner.retryAfter(this.opts.syncPeriodMs ?? 30_000);
    }
    this.history.push(result);
    if (this.history.length > 100) this.history.shift();
    this.log.debug(
      { kind, ok: result.ok, ms: result.durationMs, family: this.family },
      'synced iptables rules',
    );
    return result;
  }

  private async ensureBaseChains(): Promise<void> {
    const exec = this.opts.executor;
    for (const table of CANARY_TABLES) await exec.ensureChain(table, KUBE_PROXY_CANARY);
    // Our top-level chains must exist before a built-in chain can jump to them.
    for (const j of IPTABLES_JUMP_RULES) await exec.ensureChain(j.table, j.args.at(-1)!);
    // Inserted at the top in reverse so the final order matches the list.
    for (const j of [...IPTABLES_JUMP_RULES].reverse()) await exec.ensureRule(j.table, j.chain, j.args);
  }

  private afterSuccess(
    kind: 'full' | 'partial',
    start: number,
    end: number,
    snapshot: ProxySnapshot,
    ruleCounts: { filter: number; nat: number },
    noLocal: { internal: number; external: number },
  ): void {
    this.opts.health?.updated(this.family);
    const m = this.opts.metrics;
    if (!m) return;
    m.observeSync(kind, (end - start) / 1000, end);
    m.iptablesRulesTotal.set({ table: 'filter' }, ruleCounts.filter);
    m.iptablesRulesTotal.set({ table: 'nat' }, ruleCounts.nat);
    m.noLocalEndpointsTotal.set(
      { traffic_policy: 'internal', address_family: this.family },
      noLocal.internal,
    );
    m.noLocalEndpointsTotal.set(
      { traffic_policy: 'external', address_family: this.family },
      noLocal.external,
    );
    m.observeNetworkProgramming(snapshot.lastChangeTriggerTimes, end);
  }

  private async afterSyncSideEffects(snapshot: ProxySnapshot): Promise<void> {
    const sh = this.opts.serviceHealth;
    if (sh) {
      const ports = new Map<string, number>();
      const local = new Map<string, number>();
      for (const [key, sp] of snapshot.services) {
        if (sp.healthCheckNodePort === 0) continue;
        ports.set(sp.service, sp.healthCheckNodePort);
        const cat = categorizeEndpoints(
          snapshot.endpoints.get(key) ?? [],
          sp,
          snapshot.nodeName,
          snapshot.nodeLabels,
        );
        local.set(
          sp.service,
          Math.max(local.get(sp.service) ?? 0, cat.localEndpoints.filter((e) => e.ready).length),
        );
      }
      await sh.syncServices(ports);
      sh.syncEndpoints(local);
    }
    const ct = this.opts.conntrack;
    if (ct) {
      // Best effort: stale UDP flows only delay recovery; they must not fail the sync.
      try {
        for (const ip of snapshot.deletedUDPClusterIPs) await ct.clearByDestination(ip, 'udp');
        for (const key of snapshot.newlyActiveUDPServices) {
          const sp = snapshot.services.get(key);
          if (sp) await ct.clearByDestination(sp.clusterIP, 'udp');
        }
        for (const { servicePortKey, endpoint } of snapshot.deletedUDPEndpoints) {
          const sp = snapshot.services.get(servicePortKey);
          if (!sp) continue;
          const ip = endpoint.startsWith('[')
            ? endpoint.slice(1, endpoint.indexOf(']'))
            : endpoint.split(':')[0]!;
          await ct.clearByNAT(sp.clusterIP, ip, 'udp');
        }
      } catch (err) {
        this.log.warn({ err }, 'conntrack cleanup failed');
      }
    }
  }
}
