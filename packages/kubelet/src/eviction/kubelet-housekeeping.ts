import type { Clock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { Pod } from '../api/pod-types';
import type { PodCgroupManager } from '../cgroups/pod-cgroup-manager';
import { everyOn } from '../clock-timers';
import type { KubeletConfiguration } from '../config/kubelet-configuration';
import type { PodRuntime } from '../cri/pod-runtime';
import type { NodeEventRecorder } from '../events/event-reasons';
import { ImageGCError } from '../images/image-gc-errors';
import { ImageGCManager, imageGCFailedReason } from '../images/image-gc-manager';
import { imageGCPeriodMs, imageGCPolicyFromConfig } from '../images/image-gc-policy';
import type { ImagePullManager } from '../images/image-pull-manager';
import type { ImageService } from '../images/image-service';
import type { KubeletLogger } from '../kubelet-logger';
import type { FsStats, Summary } from '../stats/summary-types';
import { garbageCollectAllPods } from '../sync/container-gc';
import { evictionSettingsFromConfig } from './eviction-config';
import {
  type AdmitResult,
  EvictionManager,
  type EvictionManagerOptions,
  type PressureSignals,
} from './eviction-manager';
import {
  createHousekeepingMetrics,
  type HousekeepingMetrics,
  memoryQoSMetrics,
} from './housekeeping-metrics';

/** What KubeletHousekeeping needs: the configuration, the runtime and, per part, the sources that part works from. */
export interface KubeletHousekeepingOptions {
  /** The eviction thresholds and image GC settings are read from here. */
  config: KubeletConfiguration;
  /** Lists the containers: which images are in use, which pod cgroups are orphans, what container GC removes. */
  runtime: PodRuntime;
  /** The clock every timer runs on. */
  clock: Clock;
  /** Where removed images, evictions and failed passes are logged. */
  logger: Pick<KubeletLogger, 'info' | 'warn'>;
  /** Stats summary source; without it there is no eviction manager. */
  stats?: {
    /** The current stats summary (the /stats/summary shape). */
    summary(): Promise<Summary>;
  };
  /** CRI image service; with imageFs it enables image GC. */
  images?: ImageService;
  /** The image filesystem's capacity and free bytes; with images it enables image GC. */
  imageFs?: () => Promise<FsStats | undefined>;
  /** QoS/pod cgroup manager (cgroupsPerQOS). */
  cgroups?: PodCgroupManager;
  /** Pods that are running or about to run: the eviction candidates, and the pods whose cgroups stay. */
  activePods: () => Pod[];
  /** Uids of every pod the kubelet knows: their cgroups are never orphans. */
  knownPodUids: () => Iterable<string>;
  /** Stops an evicted pod and marks it Failed; see EvictionManagerOptions.evictPod. */
  evictPod: EvictionManagerOptions['evictPod'];
  evictionMonitoringPeriodMs?: number;
  imageGCPeriodMs?: number;
  /** Registry for kubelet_evictions and kubelet_image_garbage_collected_total. */
  registry?: Registry;
  /** Verified image pulls: image GC prunes the records of images it no longer finds. */
  imagePullManager?: ImagePullManager;
  /** Node events of image GC (InvalidDiskCapacity, FreeDiskSpaceFailed, ImageGCFailed). */
  recordNodeEvent?: NodeEventRecorder;
}

/**
 * The kubelet's node housekeeping around the pod engine: the eviction manager (with container
 * and image GC as its disk reclaim), periodic image GC, and the QoS/pod cgroup hierarchy
 * (created at start, orphans removed, each pod's cgroup removed once it is gone). Each part is
 * only present when its inputs are given.
 */
export class KubeletHousekeeping {
  readonly evictionManager: EvictionManager | undefined;
  readonly imageGC: ImageGCManager | undefined;
  readonly cgroups: PodCgroupManager | undefined;
  readonly metrics: HousekeepingMetrics | undefined;
  private readonly options: KubeletHousekeepingOptions;
  private stopOrphanTimer: (() => void) | undefined;

  constructor(options: KubeletHousekeepingOptions) {
    this.options = options;
    this.cgroups = options.cgroups;
    this.metrics = options.registry ? createHousekeepingMetrics(options.registry) : undefined;
    const metrics = this.metrics;
    const { runtime, logger } = options;
    if (options.images && options.imageFs) {
      const pullRecords = options.imagePullManager;
      this.imageGC = new ImageGCManager({
        images: options.images,
        imagesInUse: async () =>
          (await runtime.listPods()).flatMap((pod) => pod.containers.map((c) => c.imageRef)),
        imageFs: options.imageFs,
        policy: imageGCPolicyFromConfig(options.config),
        clock: options.clock,
        onRemoved: (image, reason) => {
          metrics?.imageGarbageCollected.inc({ reason });
          logger.info({ image: image.id, reason }, 'Removed unused image');
        },
        recordNodeEvent: options.recordNodeEvent,
        // Upstream StartGarbageCollection: only a failure after a failure is an event.
        onError: (error, failedBefore) => {
          // Upstream's err.Error(): the reason alone, without our field and value.
          const message =
            error instanceof ImageGCError
              ? error.reason
              : error instanceof Error
                ? error.message
                : String(error);
          if (!failedBefore) {
            logger.warn(
              { err: message },
              'Image garbage collection failed once. Stats initialization may not have completed yet',
            );
            return;
          }
          logger.warn({ err: message }, 'Image garbage collection failed multiple times in a row');
          options.recordNodeEvent?.('Warning', imageGCFailedReason, message);
        },
        afterFreeSpace: pullRecords
          ? (remaining, began) => pullRecords.pruneUnknownRecords(remaining, began)
          : undefined,
      });
    }
    if (options.stats) {
      const stats = options.stats;
      const imageGC = this.imageGC;
      this.evictionManager = new EvictionManager({
        settings: evictionSettingsFromConfig(options.config),
        summary: () => stats.summary(),
        activePods: options.activePods,
        evictPod: options.evictPod,
        clock: options.clock,
        monitoringPeriodMs: options.evictionMonitoringPeriodMs,
        localStorageCapacityIsolation: options.config.localStorageCapacityIsolation,
        reclaimDisk: async () => {
          const active = new Set(options.activePods().map((pod) => pod.metadata.uid ?? ''));
          await garbageCollectAllPods(runtime, (uid) => active.has(uid));
          await imageGC?.deleteUnusedImages();
        },
        onEviction: (pod, signal, message) => {
          metrics?.evictions.inc({ eviction_signal: signal });
          logger.warn(
            { pod: `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`, signal },
            message,
          );
        },
        onError: (error) => logger.warn({ err: String(error) }, 'Eviction manager: synchronize failed'),
      });
    }
  }

  /** Creates the QoS cgroups and removes orphaned pod cgroups, then starts eviction and image GC. */
  async start(): Promise<void> {
    if (this.cgroups) {
      await this.cgroups.start();
      await this.updateQOSCgroups();
      // An unreachable runtime must not stop the kubelet from starting; the timer retries.
      await this.removeOrphanedPodCgroups().catch((error) =>
        this.options.logger.warn({ err: String(error) }, 'Failed to remove orphaned pod cgroups'),
      );
      // A pod cgroup still busy when its pod stopped is retried here; the burstable tier's
      // CPU shares follow the pods' requests.
      this.stopOrphanTimer = everyOn(
        this.options.clock,
        this.options.evictionMonitoringPeriodMs ?? 10_000,
        () => {
          void this.removeOrphanedPodCgroups().catch(() => undefined);
          void this.updateQOSCgroups().catch(() => undefined);
        },
      );
    }
    this.evictionManager?.start();
    // Upstream StartGarbageCollection: no periodic image GC at imageGCHighThresholdPercent 100 with
    // no imageMaximumGCAge (eviction's disk reclaim still removes unused images).
    const policy = imageGCPolicyFromConfig(this.options.config);
    if (policy.highThresholdPercent < 100 || policy.maxAgeMs > 0)
      this.imageGC?.start(this.options.imageGCPeriodMs ?? imageGCPeriodMs);
  }

  /**
   * The QoS cgroups follow the active pods; with MemoryQoS enforced the node's totals go to
   * kubelet_memory_qos_node_memory_min_bytes / _low_bytes.
   */
  private async updateQOSCgroups(): Promise<void> {
    const memory = await this.cgroups?.updateQOSCgroups(this.options.activePods());
    if (!memory || !this.options.registry) return;
    const gauges = memoryQoSMetrics(this.options.registry);
    gauges.nodeMemoryMin.set(memory.minBytes);
    gauges.nodeMemoryLow.set(memory.lowBytes);
  }

  /** Stops the timers and resolves once an eviction or image GC pass under way has finished. */
  async stop(): Promise<void> {
    this.stopOrphanTimer?.();
    this.stopOrphanTimer = undefined;
    await this.evictionManager?.stop();
    await this.imageGC?.stop();
  }

  /** Eviction admission (always admits without an eviction manager). */
  admit(pod: Pod): AdmitResult {
    return this.evictionManager?.admit(pod) ?? { admit: true };
  }

  /** The pressure conditions for node status (all false without an eviction manager). */
  pressure(): PressureSignals {
    return (
      this.evictionManager?.pressure() ?? { memoryPressure: false, diskPressure: false, pidPressure: false }
    );
  }

  /** A pod's containers and sandbox are stopped: its cgroup can go (retried as an orphan if busy). */
  async podStopped(uid: string): Promise<void> {
    await this.cgroups
      ?.removePod(uid)
      .catch((error) => this.options.logger.warn({ uid, err: String(error) }, 'Failed to remove pod cgroup'));
  }

  /** Removes the cgroups of pods that are neither known to the kubelet nor in the runtime. */
  async removeOrphanedPodCgroups(): Promise<string[]> {
    if (!this.cgroups) return [];
    const keep = new Set(this.options.knownPodUids());
    for (const pod of await this.options.runtime.listPods()) keep.add(pod.uid);
    return this.cgroups.removeOrphans(keep);
  }
}
