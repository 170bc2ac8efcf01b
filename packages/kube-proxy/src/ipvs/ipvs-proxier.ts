import type { IpvsTimeouts } from '@nodeagent/ipvs';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import type { ConntrackCleaner } from '../shared/conntrack-cleaner';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from '../shared/proxier-base';
import { syncServiceHealth } from '../shared/sync-service-health';
import { IpvsApplier, type IpvsApplyResult, type IpvsKernelLayers } from './apply-ipvs';
import { GracefulTermination } from './graceful-termination';
import { KUBE_IPVS_INTERFACE } from './ipvs-names';
import type { IpvsPlan, IpvsPlanOptions } from './ipvs-plan';
import { IpvsPlanner } from './plan-ipvs';

/** Configuration of the ipvs backend (see ipvsOptionsFromConfig). */
export interface IpvsBackendOptions extends IpvsPlanOptions {
  /**
   * Addresses NodePorts are served on; undefined means every local address of the family
   * except those on kube-ipvs0, looked up at each sync (upstream's default).
   */
  nodePortIPs?: readonly string[] | undefined;
  /** ipvs.excludeCIDRs: virtual servers on these addresses are never deleted (another component owns them). */
  excludeCIDRs?: readonly string[];
  /** ipvs.strictARP: arp_ignore=1 / arp_announce=2, so the node does not answer ARP for kube-ipvs0's VIPs. */
  strictARP?: boolean;
  /** ipvs.tcpTimeout / tcpFinTimeout / udpTimeout in seconds (0 or absent = leave the kernel's). */
  timeouts?: Partial<IpvsTimeouts>;
  /** A draining real server is deleted after this long even with connections left. Default 10 min. */
  gracefulTerminationTimeoutMs?: number;
  /** How often draining real servers are checked between syncs. Default 60 s (upstream's interval). */
  gracefulCheckIntervalMs?: number;
}

/** Options of IpvsProxier: the common proxier options plus the kernel interfaces and the ipvs settings. */
export interface IpvsProxierOptions extends ProxierBaseOptions {
  /** IPVS, interface, ipset, iptables and sysctl access (real ones on a node, the fakes in tests). */
  kernel: IpvsKernelLayers;
  /** Scheduler, NodePort, masquerade and draining settings (ipvsOptionsFromConfig). */
  backend?: IpvsBackendOptions;
  /** The health-check node port servers for externalTrafficPolicy=Local Services, kept in step with each sync. */
  serviceHealth?: ServiceHealthServer;
  /** Removes stale UDP flows after each sync, as upstream's ipvs mode does (see clearStaleConntrack). */
  conntrack?: ConntrackCleaner;
}

/** Even without failures, read the kernel back this often to repair drift. */
const FORCED_FULL_SYNC_INTERVAL_MS = 60 * 60 * 1000;
const DEFAULT_GRACEFUL_CHECK_MS = 60_000;

/**
 * The ipvs-mode proxier: each sync plans the IPVS virtual servers, kube-ipvs0 addresses,
 * ipsets and iptables rules from the snapshot (IpvsPlanner) and applies the difference
 * (IpvsApplier). Removed TCP/SCTP real servers drain at weight 0 and are deleted by a
 * periodic check once their connections are gone.
 */
export class IpvsProxier extends ProxierBase {
  readonly graceful: GracefulTermination;
  private readonly planner: IpvsPlanner;
  private readonly applier: IpvsApplier;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  private drainTimer: unknown;
  private stopped = true;
  /**
   * Whether the planner may visit only the Services the snapshot names as changed: false until
   * a sync planned its snapshot, and again after a failure (its snapshot may never have been
   * planned) or before a full sync.
   */
  private plannedEverySnapshot = false;
  /** The last plan applied (for `render`-like inspection and tests). */
  lastPlan: IpvsPlan | undefined;
  /** What the last successful sync changed. */
  lastApply: IpvsApplyResult | undefined;

  constructor(private readonly opts: IpvsProxierOptions) {
    super(opts);
    const b = opts.backend ?? {};
    this.graceful = new GracefulTermination({ timeoutMs: b.gracefulTerminationTimeoutMs });
    this.planner = new IpvsPlanner(b);
    this.applier = new IpvsApplier({
      ...opts.kernel,
      family: opts.family,
      graceful: this.graceful,
      excludeCIDRs: b.excludeCIDRs,
      strictARP: b.strictARP,
      timeouts: b.timeouts,
    });
  }

  override start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    super.start();
    this.scheduleDrainCheck();
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    await super.stop();
  }

  private scheduleDrainCheck(): void {
    if (this.stopped) return;
    const every = this.opts.backend?.gracefulCheckIntervalMs ?? DEFAULT_GRACEFUL_CHECK_MS;
    this.drainTimer = this.clock.setTimeout(() => {
      // Through the runner, so the check never overlaps a sync.
      if (this.graceful.size > 0) {
        this.applier.requestFullDrain();
        this.runner.run();
      }
      this.scheduleDrainCheck();
    }, every);
  }

  /** Deletes drained real servers now (tests; normally part of every sync). */
  async processGracefulTermination(): Promise<number> {
    await this.whenIdle();
    return this.applier.processGracefulTermination(this.clock.now());
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized()) return undefined;
    const start = this.clock.now();
    if (start - this.lastFullSync >= FORCED_FULL_SYNC_INTERVAL_MS) this.applier.invalidate();
    const kind = this.applier.needsFullSync ? 'full' : 'partial';
    const snapshot = this.checkoutSnapshot();
    let result: SyncResult;
    try {
      const b = this.opts.backend ?? {};
      const nodePortIPs =
        b.nodePortIPs ?? (await this.opts.kernel.link.localAddresses(this.family, KUBE_IPVS_INTERFACE));
      const changedOnly = this.plannedEverySnapshot && kind === 'partial';
      this.plannedEverySnapshot = false;
      const plan = this.planner.plan(snapshot, { nodePortIPs, changedOnly });
      this.plannedEverySnapshot = true;
      this.lastApply = await this.applier.apply(plan, start);
      this.lastPlan = plan;
      const end = this.clock.now();
      if (kind === 'full') this.lastFullSync = start;
      result = { kind, ok: true, durationMs: end - start };
      this.syncSucceeded(kind, start, end, snapshot);
      this.recordNoLocalEndpoints(plan.noLocalEndpoints);
      if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
      await this.clearConntrack(this.opts.conntrack, snapshot);
    } catch (err) {
      // This sync's snapshot may not have been planned: the next plan walks every Service.
      this.plannedEverySnapshot = false;
      result = { kind, ok: false, durationMs: this.clock.now() - start, error: err };
      this.log.error({ err, kind, family: this.family }, 'failed to sync ipvs rules');
      this.retryAfterFailure();
    }
    this.recordResult(result);
    return result;
  }
}
