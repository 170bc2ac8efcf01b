import { type Clock, systemClock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';
import type { PodRuntime } from '../cri/pod-runtime';
import type { KubeletLogger } from '../kubelet-logger';
import { garbageCollectAllPods } from './container-gc';

/** Upstream ContainerGCPeriod: the container GC runs once a minute. */
export const containerGCPeriodMs = 60_000;

/** What the container GC asks of the kubelet's pods. */
export interface PodLiveness {
  /** Pods that lose every dead container (deleted, or evicted, and terminated); the rest keep the newest of each. */
  contentRemovable(uid: string): boolean;
  /** Pods the kubelet knows at all; the rest were deleted and lose every dead object. */
  isKnown(uid: string): boolean;
}

/** What a {@link ContainerGarbageCollector} removes through and how it tells live pods from gone ones. */
export interface ContainerGarbageCollectorOptions {
  /** The runtime whose dead containers and sandboxes are removed. */
  runtime: PodRuntime;
  /** Which pods are still running and which the kubelet knows at all. */
  pods: PodLiveness;
  /** Told of a failed round (the collector itself never throws). */
  logger: KubeletLogger;
  /** Milliseconds between rounds (default {@link containerGCPeriodMs}, upstream's 1 min). */
  periodMs?: number;
  /** The clock the period runs on (default: the system clock). */
  clock?: Clock;
}

/**
 * Upstream's periodic container GC (kubeGenericRuntimeManager.GarbageCollect, policy
 * MaxPerPodContainer 1, evictNonDeletedPods false): dead containers beyond the newest per
 * container, dead sandboxes, and everything dead of pods whose content may go (no longer known,
 * e.g. what a RemoveContainer refused while the pod was cleaned up; deleted or evicted). A pod
 * that finished keeps its last containers and their logs. A failing round is reported and the next one retries; it never throws.
 */
export class ContainerGarbageCollector {
  private stopTimer: (() => void) | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: ContainerGarbageCollectorOptions) {}

  /** Runs a round every period from now on; a second call while running does nothing. */
  start(): void {
    if (this.stopTimer) return;
    const period = this.options.periodMs ?? containerGCPeriodMs;
    this.stopTimer = everyOn(this.options.clock ?? systemClock, period, () => void this.run());
  }

  /** Stops the periodic rounds and waits for a round in flight to finish. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.running;
  }

  /** One round (rounds do not overlap); resolves to how many objects were removed, 0 on failure. */
  run(): Promise<number> {
    const { pods } = this.options;
    this.running ??= garbageCollectAllPods(
      this.options.runtime,
      (uid) => !pods.contentRemovable(uid),
      (uid) => pods.isKnown(uid),
    )
      .catch((error) => {
        this.options.logger.warn({ err: String(error) }, 'Container garbage collection failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
