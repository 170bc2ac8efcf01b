import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { IPFamily } from '../model/ip-family';
import { ProxyState } from '../model/proxy-snapshot';
import { buildNftablesRuleset, type NftablesBackendOptions } from '../nftables/build-nftables-ruleset';
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

/**
 * The nftables-mode proxier. Every sync replaces the family's `kube-proxy` table in one
 * atomic `nft -f` transaction (no element diffs yet), so a failed sync leaves the previous
 * rules in place and the next sync repairs everything.
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
    try {
      const built = buildNftablesRuleset(snapshot, this.opts.backend);
      this.lastScript = built.script;
      await this.opts.executor.apply(built.script);
      const end = this.clock.now();
      result = { kind: 'full', ok: true, durationMs: end - start };
      this.opts.health?.updated(this.family);
      const m = this.opts.metrics;
      if (m) {
        m.observeSync('full', (end - start) / 1000, end);
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
      result = { kind: 'full', ok: false, durationMs: this.clock.now() - start, error: err };
      this.opts.metrics?.nftablesSyncFailuresTotal.inc();
      this.log.error({ err, family: this.family }, 'failed to sync nftables rules');
      this.runner.retryAfter(this.opts.syncPeriodMs ?? 30_000);
    }
    this.history.push(result);
    if (this.history.length > 100) this.history.shift();
    return result;
  }
}
