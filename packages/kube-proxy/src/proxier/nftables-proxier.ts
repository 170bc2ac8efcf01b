import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { renderScript } from '@nodeagent/netfilter';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { IPFamily } from '../model/ip-family';
import { ProxyState } from '../model/proxy-snapshot';
import {
  buildNftablesRuleset,
  NFTABLES_TABLE,
  type NftablesBackendOptions,
} from '../nftables/build-nftables-ruleset';
import { desiredStateOf, diffNftables, type NftDesiredState } from '../nftables/nftables-diff';
import type { NftablesExecutor } from '../nftables/nftables-executor';
import { BoundedFrequencyRunner } from '../runtime/bounded-frequency-runner';
import { type Clock, systemClock } from '../runtime/clock';
import type { KubeProxyMetrics } from '../runtime/metrics';
import type { ProxierHealth } from '../runtime/proxier-health';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { SyncResult } from './iptables-proxier';
import { type ProxyLogger, silentLogger } from './logger';
import type { ProxyHandler } from './proxy-handler';

export interface NftablesProxierOptions {
  family: IPFamily;
  nodeName: string;
  executor: NftablesExecutor;
  backend?: NftablesBackendOptions;
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  clock?: Clock;
  metrics?: KubeProxyMetrics;
  health?: ProxierHealth;
  serviceHealth?: ServiceHealthServer;
  logger?: ProxyLogger;
}

/** Even without failures, replace the whole table this often to repair any drift. */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The nftables-mode proxier. The first sync, any sync after a failure, and an hourly one
 * replace the family's `kube-proxy` table atomically; every other sync applies only the
 * difference to what was last applied (changed chains flushed and rewritten, changed map
 * elements deleted/added, stale chains and sets removed), so a one-endpoint change is a small
 * transaction. Either way the change is one atomic `nft -f`.
 */
export class NftablesProxier implements ProxyHandler {
  readonly family: IPFamily;
  private readonly state: ProxyState;
  private readonly runner: BoundedFrequencyRunner;
  private readonly clock: Clock;
  private readonly log: ProxyLogger;
  private servicesSynced = false;
  private endpointSlicesSynced = false;
  readonly history: SyncResult[] = [];
  lastScript = '';
  /** What the kernel holds after our last successful sync; undefined forces a full replacement. */
  private applied: NftDesiredState | undefined;
  private lastFullSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: NftablesProxierOptions) {
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
    this.runner.start();
    if (this.isInitialized()) this.runner.run();
  }

  async stop(): Promise<void> {
    this.runner.stop();
    await this.runner.whenIdle();
  }

  whenIdle(): Promise<void> {
    return this.runner.whenIdle();
  }

  isInitialized(): boolean {
    return this.servicesSynced && this.endpointSlicesSynced;
  }

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
  onNode(node: V1Node): void {
    this.changed(this.state.setNodeLabels(node.metadata?.labels ?? {}));
  }

  private changed(pending: boolean): void {
    if (!pending) return;
    this.opts.health?.queuedUpdate(this.family);
    if (this.isInitialized()) this.runner.run();
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    const snapshot = this.state.snapshot();
    let result: SyncResult;
    let kind: 'full' | 'partial' = 'full';
    try {
      const built = buildNftablesRuleset(snapshot, this.opts.backend);
      const desired = desiredStateOf(built.transaction.operations);
      const diff =
        this.applied && start - this.lastFullSync < FORCED_FULL_SYNC_INTERVAL_MS
          ? diffNftables(this.applied, desired)
          : undefined;
      if (diff) {
        kind = 'partial';
        this.lastScript = renderScript(this.family === 'IPv6' ? 'ip6' : 'ip', NFTABLES_TABLE, diff, {
          emulateDestroy: false,
        });
        if (diff.size > 0) await this.opts.executor.apply(this.lastScript);
      } else {
        this.lastScript = built.script;
        // Forget the old state first: if the apply fails we must not diff against it.
        this.applied = undefined;
        await this.opts.executor.apply(built.script);
        this.lastFullSync = start;
      }
      this.applied = desired;
      const end = this.clock.now();
      result = { kind, ok: true, durationMs: end - start };
      this.opts.health?.updated(this.family);
      const m = this.opts.metrics;
      if (m) {
        m.observeSync(kind, (end - start) / 1000, end);
        m.observeNetworkProgramming(snapshot.lastChangeTriggerTimes, end);
        m.noLocalEndpointsTotal.set(
          { traffic_policy: 'internal', address_family: this.family },
          built.noLocalEndpoints.internal,
        );
        m.noLocalEndpointsTotal.set(
          { traffic_policy: 'external', address_family: this.family },
          built.noLocalEndpoints.external,
        );
      }
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
    } catch (err) {
      this.applied = undefined;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      this.opts.metrics?.nftablesSyncFailuresTotal.inc();
      this.log.error({ err, family: this.family }, 'failed to sync nftables rules');
      this.runner.retryAfter(this.opts.syncPeriodMs ?? 30_000);
    }
    this.history.push(result);
    if (this.history.length > 100) this.history.shift();
    return result;
  }
}
