import type { Clock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { PodCache } from '../pleg/pod-cache';
import type { CrashLoopBackOff } from '../pod/crash-loop-backoff';
import type { PodVolumeManager } from '../volumes/pod-volume-manager';
import { forgetSettledPullErrors } from './image-puller';
import type { OrphanedRuntimePods } from './orphaned-runtime-pods';
import type { PodResizer } from './pod-resizer';
import type { PodStateStore } from './pod-state-store';

/** Upstream's housekeepingPeriod: how often orphaned pods and their directories are looked for. */
export const HOUSEKEEPING_PERIOD_MS = 2_000;

/** What {@link PodHousekeeping} sweeps through. */
export interface PodHousekeepingOptions {
  orphans: OrphanedRuntimePods;
  volumes: PodVolumeManager;
  /** Its recorded allocations of pods that are gone are removed. */
  resizer: Pick<PodResizer, 'removeOrphans'>;
  /** The crash-loop and image pull back-offs: their expired entries are dropped every sweep. */
  backOffs: readonly CrashLoopBackOff[];
  /** The kubelet's pods (upstream's desired state). */
  pods: PodStateStore;
  /** The runtime's pods as the last relist or sync saw them. */
  cache: PodCache;
  clock: Clock;
  logger: KubeletLogger;
}

/**
 * The share of upstream's HandlePodCleanups that runs only once every pod source is ready, every
 * housekeeping period, one sweep at a time: running pods the kubelet does not hold are killed
 * (orphaned-runtime-pods.ts), the allocations recorded for pods that are gone removed, the
 * volumes of such pods torn down and orphaned pod directories removed
 * ({@link PodVolumeManager.cleanUpOrphans}), and the back-offs' expired
 * entries dropped: with pods coming and going for months, they would otherwise only grow.
 */
export class PodHousekeeping {
  private stopTicks: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: PodHousekeepingOptions) {}

  /** The sources are ready: sweep now and every period after. Resolves when this sweep ended. */
  start(): Promise<void> {
    if (this.stopTicks) return this.sweep();
    this.stopTicks = everyOn(this.options.clock, HOUSEKEEPING_PERIOD_MS, () => void this.sweep());
    return this.sweep();
  }

  /** No further sweep starts. */
  stop(): void {
    this.stopTicks?.();
    this.stopTicks = undefined;
  }

  /** One sweep (joins the one in flight). */
  sweep(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.sweepOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async sweepOnce(): Promise<void> {
    const { orphans, volumes, pods, cache, resizer, backOffs, logger } = this.options;
    await orphans.killOrphans();
    const known = new Set(pods.uids());
    await resizer
      .removeOrphans(known)
      .catch((error) => logger.error({ err: String(error) }, 'Failed to remove orphaned pod allocations'));
    await volumes
      .cleanUpOrphans(known, new Set(cache.uids()))
      .catch((error) => logger.error({ err: String(error) }, 'Failed cleaning up orphaned pod directories'));
    // Upstream's crashLoopBackOff.GC(): an entry past its expiry acts as none, so it need not be
    // held, nor the last pull error shown while it backed off.
    for (const backOff of backOffs) {
      backOff.gc();
      forgetSettledPullErrors(backOff);
    }
  }
}
