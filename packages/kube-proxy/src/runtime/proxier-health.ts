import { type Clock, systemClock } from '@nodeagent/primitives';
import type { IPFamily } from '../model/ip-family';

/** The proxier's health at one moment, as /healthz and /livez report it. */
export interface HealthStatus {
  /** False once some family's queued update has waited healthTimeoutMs without a sync. */
  healthy: boolean;
  /** ms since epoch of the most recent successful sync (0 if never). */
  lastUpdated: number;
  /** ms since epoch when the status was taken (the injected clock's now). */
  currentTime: number;
}

/**
 * Tracks proxier liveness as upstream's ProxyHealthServer: unhealthy when a queued update
 * for some family has waited longer than healthTimeout (2 × syncPeriod) without a sync.
 */
export class ProxierHealth {
  private readonly clock: Clock;
  private readonly lastUpdated = new Map<IPFamily, number>();
  private readonly oldestPendingQueued = new Map<IPFamily, number>();
  private nodeEligible = true;

  constructor(
    readonly healthTimeoutMs: number,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** A change arrived that the proxier for `family` has not yet applied. */
  queuedUpdate(family: IPFamily): void {
    if (!this.oldestPendingQueued.has(family)) this.oldestPendingQueued.set(family, this.clock.now());
  }

  /** The proxier for `family` completed a sync. */
  updated(family: IPFamily): void {
    this.lastUpdated.set(family, this.clock.now());
    this.oldestPendingQueued.delete(family);
  }

  /** Marks the node as being deleted or drained (autoscaler taint): /healthz fails so LBs drain it. */
  setNodeEligible(eligible: boolean): void {
    this.nodeEligible = eligible;
  }

  /** False while the node is being deleted or drained (see setNodeEligible); /healthz reports it. */
  isNodeEligible(): boolean {
    return this.nodeEligible;
  }

  /** Healthy unless a family's oldest unapplied update (or, before its first sync, its first one) is overdue. */
  status(): HealthStatus {
    const now = this.clock.now();
    let lastUpdated = 0;
    for (const [family, t] of this.lastUpdated) {
      if (t > lastUpdated) lastUpdated = t;
      const queued = this.oldestPendingQueued.get(family);
      if (queued !== undefined && now - queued >= this.healthTimeoutMs) {
        return { healthy: false, lastUpdated: t, currentTime: now };
      }
    }
    // A family that never synced is healthy while starting up, unless its first update is overdue.
    for (const [family, queued] of this.oldestPendingQueued) {
      if (!this.lastUpdated.has(family) && now - queued >= this.healthTimeoutMs) {
        return { healthy: false, lastUpdated, currentTime: now };
      }
    }
    return { healthy: true, lastUpdated, currentTime: now };
  }
}
