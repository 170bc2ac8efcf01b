import type { Clock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { PodVolumeManager } from './pod-volume-manager';

/** Upstream's housekeepingPeriod: how often orphaned pod directories are looked for. */
export const HOUSEKEEPING_PERIOD_MS = 2_000;

/**
 * The volume share of upstream's HandlePodCleanups, which runs only once every pod source is
 * ready: every housekeeping period the volumes of pods that are gone are torn down and orphaned
 * pod directories removed ({@link PodVolumeManager.cleanUpOrphans}); one sweep at a time.
 */
export class VolumeHousekeeping {
  private stopTicks: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly volumes: PodVolumeManager,
    /** The uids of the kubelet's pods now. */
    private readonly pods: () => Iterable<string>,
    /** The uids of the runtime's pods now. */
    private readonly runtimePods: () => Iterable<string>,
    private readonly clock: Clock,
    private readonly logger: KubeletLogger,
  ) {}

  /** The sources are ready: sweep now and every period after. Resolves when this sweep ended. */
  start(): Promise<void> {
    if (this.stopTicks) return this.sweep();
    this.stopTicks = everyOn(this.clock, HOUSEKEEPING_PERIOD_MS, () => void this.sweep());
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
    this.inFlight = this.volumes
      .cleanUpOrphans(new Set(this.pods()), new Set(this.runtimePods()))
      .catch((error) =>
        this.logger.error({ err: String(error) }, 'Failed cleaning up orphaned pod directories'),
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
