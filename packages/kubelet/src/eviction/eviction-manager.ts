import { type Clock, systemClock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import { unrefTimer } from '../clock-timers';
import type { Summary } from '../stats/summary-types';
import { isCriticalPod, toleratesTaint } from './critical-pod';
import { type ConfiguredThreshold, type EvictionSettings, isHardThreshold } from './eviction-config';
import { evictedReason, evictionMessage, nodeConditionMessage } from './eviction-message';
import { localStorageViolation } from './local-storage-limits';
import { type PodStatsLookup, podStatsLookup } from './pod-usage';
import { rankPodsForEviction } from './rank-pods';
import { type SignalObservations, signalObservations } from './signal-observations';
import {
  evictionPriority,
  nodeLevelReclaimSignals,
  type PressureCondition,
  signalToResource,
} from './signal-resources';
import {
  mergeThresholds,
  nodeConditionsFor,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  thresholdsFirstObservedAt,
  thresholdsMet,
  thresholdsMetGracePeriod,
} from './threshold-evaluation';

/** Upstream immediateEvictionGracePeriodSeconds: hard evictions give pods one second. */
export const immediateEvictionGracePeriodSeconds = 1;
/** Upstream evictionMonitoringPeriod (the kubelet's housekeeping cadence for eviction). */
export const defaultEvictionMonitoringPeriodMs = 10_000;
/** The taint a best-effort pod must tolerate to be admitted under memory pressure. */
export const memoryPressureTaintKey = 'node.kubernetes.io/memory-pressure';

const conditionOrder: readonly PressureCondition[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** The pressure conditions, shaped for @nodeagent/node-status's `pressure` input. */
export interface PressureSignals {
  memoryPressure: boolean;
  diskPressure: boolean;
  pidPressure: boolean;
}

/**
 * The status an evicted pod ends with. `disruptionTarget: false` leaves out the DisruptionTarget
 * condition, as upstream's evictions for local storage limits pass no condition.
 */
export interface EvictionStatus {
  reason: string;
  message: string;
  disruptionTarget?: boolean;
}

/** The eviction manager's admission answer; a refusal carries reason `Evicted` and a message naming the pressure. */
export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/** The thresholds, stats source, pods and actions an EvictionManager works with. */
export interface EvictionManagerOptions {
  /** Thresholds and periods, e.g. from evictionSettingsFromConfig(). */
  settings: EvictionSettings;
  /** The stats summary (memory, nodefs, imagefs, rlimit and per-pod usage). */
  summary: () => Promise<Summary>;
  /** Pods that are running or about to run: the eviction candidates. */
  activePods: () => Pod[];
  /**
   * Stops the pod with the given grace period and marks it Failed with the given reason and
   * message. Returns false when the pod could not be evicted.
   */
  evictPod: (pod: Pod, gracePeriodSeconds: number, status: EvictionStatus) => Promise<boolean> | boolean;
  /** Frees disk without evicting: container GC then deleting unused images (disk signals only). */
  reclaimDisk?: () => Promise<void>;
  /** The clock for grace periods and the monitoring timer (default: the system clock). */
  clock?: Clock;
  /** How often synchronize() runs once started (upstream 10 s). */
  monitoringPeriodMs?: number;
  /**
   * KubeletConfiguration localStorageCapacityIsolation (default true): pods over their own
   * emptyDir sizeLimit or ephemeral-storage limits are evicted. false leaves only the node-level
   * thresholds (nodefs, imagefs and the others), and a pass with none configured does nothing.
   */
  localStorageCapacityIsolation?: boolean;
  /** Called after a pod was evicted, with the signal that caused it and the eviction message. */
  onEviction?: (pod: Pod, signal: string, message: string) => void;
  /** Called when a periodic synchronize() fails; the next period runs anyway. */
  onError?: (error: unknown) => void;
}

/**
 * Upstream eviction manager: every monitoring period it compares the signals from the stats
 * summary with the hard and soft thresholds, keeps the node's pressure conditions (held for
 * evictionPressureTransitionPeriod after they were last seen), and when a threshold has been
 * met past its grace period, first tries node-level reclaim for disk signals and otherwise
 * evicts one pod, chosen by rankPodsForEviction. Before that, with localStorageCapacityIsolation,
 * it evicts every pod over its own emptyDir sizeLimit or ephemeral-storage limits
 * (local-storage-limits.ts). It also answers admission: under memory pressure best-effort pods
 * are refused, under any other pressure every non-critical pod.
 */
export class EvictionManager {
  private readonly options: EvictionManagerOptions;
  private readonly clock: Clock;
  private metThresholds: ConfiguredThreshold[] = [];
  private firstObservedAt = new Map<string, number>();
  private conditionsLastObservedAt = new Map<PressureCondition, number>();
  private conditions = new Set<PressureCondition>();
  private observations: SignalObservations = new Map();
  private timer: unknown;
  private running: Promise<unknown> | undefined;

  constructor(options: EvictionManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Runs synchronize() now and then every monitoring period until stop(). */
  start(): void {
    if (this.timer) return;
    const period = this.options.monitoringPeriodMs ?? defaultEvictionMonitoringPeriodMs;
    const tick = () => {
      this.running = this.synchronize().catch((error) => this.options.onError?.(error));
      this.timer = this.clock.setTimeout(tick, period);
      unrefTimer(this.timer);
    };
    tick();
  }

  /** Stops the monitoring timer and resolves once a synchronize() under way has finished. */
  async stop(): Promise<void> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The pressure conditions now on, in upstream's order. */
  nodeConditions(): PressureCondition[] {
    return conditionOrder.filter((condition) => this.conditions.has(condition));
  }

  /** Which of memory, disk and PID pressure are on now (held for evictionPressureTransitionPeriod after the last observation). */
  pressure(): PressureSignals {
    return {
      memoryPressure: this.conditions.has('MemoryPressure'),
      diskPressure: this.conditions.has('DiskPressure'),
      pidPressure: this.conditions.has('PIDPressure'),
    };
  }

  /** The signals the last pass observed. */
  lastObservations(): SignalObservations {
    return new Map(this.observations);
  }

  /** Upstream Admit. */
  admit(pod: Pod): AdmitResult {
    const conditions = this.nodeConditions();
    if (conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
    if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
      if (podQOSClass(pod) !== 'BestEffort') return { admit: true };
      if (toleratesTaint(pod, memoryPressureTaintKey, 'NoSchedule')) return { admit: true };
    }
    return { admit: false, reason: evictedReason, message: nodeConditionMessage(conditions) };
  }

  /**
   * One pass (upstream synchronize); returns the evicted pod, if any (the first, when local
   * storage limits evicted several at once).
   */
  async synchronize(): Promise<Pod | undefined> {
    const { settings } = this.options;
    const isolation = this.options.localStorageCapacityIsolation ?? true;
    if (settings.thresholds.length === 0 && !isolation) return undefined;
    const now = this.clock.now();
    const summary = await this.options.summary();
    const observations = signalObservations(summary);
    this.observations = observations;

    let met = thresholdsMet(settings.thresholds, observations, false);
    // Thresholds that fired before stay until their minimum reclaim is satisfied too.
    if (this.metThresholds.length > 0)
      met = mergeThresholds(met, thresholdsMet(this.metThresholds, observations, true));
    this.firstObservedAt = thresholdsFirstObservedAt(met, this.firstObservedAt, now);
    this.conditionsLastObservedAt = nodeConditionsLastObservedAt(
      nodeConditionsFor(met),
      this.conditionsLastObservedAt,
      now,
    );
    this.conditions = nodeConditionsObservedSince(
      this.conditionsLastObservedAt,
      settings.pressureTransitionPeriodMs,
      now,
    );
    const actionable = thresholdsMetGracePeriod(met, this.firstObservedAt, now);
    this.metThresholds = actionable;
    // Upstream: a pass that evicted for local storage limits leaves the thresholds to the next.
    const stats = podStatsLookup(summary.pods);
    if (isolation) {
      const evicted = await this.evictOverLocalStorageLimits(stats);
      if (evicted) return evicted;
    }
    if (actionable.length === 0) return undefined;

    const target = [...actionable].sort(
      (a, b) => evictionPriority(a.signal) - evictionPriority(b.signal),
    )[0]!;
    if (nodeLevelReclaimSignals.has(target.signal) && this.options.reclaimDisk) {
      await this.options.reclaimDisk();
      const after = signalObservations(await this.options.summary());
      this.observations = after;
      if (thresholdsMet(actionable, after, true).length === 0) return undefined;
    }

    const resource = signalToResource[target.signal];
    for (const pod of rankPodsForEviction(this.options.activePods(), resource, stats)) {
      if (isCriticalPod(pod)) continue;
      let grace = immediateEvictionGracePeriodSeconds;
      if (!isHardThreshold(target)) {
        grace = settings.maxPodGracePeriodSeconds;
        const own = pod.spec.terminationGracePeriodSeconds;
        if (own !== undefined) grace = Math.min(grace, own);
      }
      const { message } = evictionMessage(resource, pod, stats, actionable, observations);
      if (await this.options.evictPod(pod, grace, { reason: evictedReason, message })) {
        this.options.onEviction?.(pod, target.signal, message);
        return pod;
      }
    }
    return undefined;
  }

  /**
   * Upstream localStorageEviction: every active pod over one of its local storage limits is
   * evicted at once with a 1 s grace, critical pods never. Returns the first evicted.
   */
  private async evictOverLocalStorageLimits(stats: PodStatsLookup): Promise<Pod | undefined> {
    let first: Pod | undefined;
    for (const pod of this.options.activePods()) {
      const podStats = stats(pod);
      const violation = podStats && !isCriticalPod(pod) ? localStorageViolation(pod, podStats) : undefined;
      if (!violation) continue;
      const status = { reason: evictedReason, message: violation.message, disruptionTarget: false };
      if (!(await this.options.evictPod(pod, immediateEvictionGracePeriodSeconds, status))) continue;
      this.options.onEviction?.(pod, violation.signal, violation.message);
      first ??= pod;
    }
    return first;
  }
}
