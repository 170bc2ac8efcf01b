import type { Clock } from '@nodeagent/primitives';
import { podName } from '../api/pod-name';
import type { Pod } from '../api/pod-types';
import { unrefTimer } from '../clock-timers';
import type { PodRuntime } from '../cri/pod-runtime';
import type { UserNamespaceAllocator } from '../cri/user-namespaces';
import type { PodEventMemory } from '../events/event-reasons';
import type { KubeletLogger } from '../kubelet-logger';
import type { StatusManager } from '../status/status-manager';
import type { PodVolumeManager } from '../volumes/pod-volume-manager';
import type { PodWorkers } from '../workers/pod-workers';
import { removePodLogDirectory, removePodRuntimeObjects } from './container-gc';
import type { PodResizer } from './pod-resizer';
import type { PodRuntimeView } from './pod-runtime-view';
import type { PodStateStore } from './pod-state-store';
import type { PodSyncer } from './pod-syncer';
import type { PodResourceReclaimer } from './sync-terminating-pod';

/** What a terminated pod's cleanup removes and forgets it in. */
export interface PodCleanupOptions {
  runtime: PodRuntime;
  volumes: PodVolumeManager;
  statuses: StatusManager;
  /** The kubelet's pod state: read (removed from its source?), and the pod forgotten at the end. */
  pods: PodStateStore;
  runtimeView: PodRuntimeView;
  /** Its ReasonCache forgets the pod; the pod's ConfigMaps and Secrets are let go through it. */
  syncer: PodSyncer;
  resizer: PodResizer;
  reclaimer: PodResourceReclaimer;
  workers: PodWorkers;
  userNamespaces?: Pick<UserNamespaceAllocator, 'releasePod'>;
  /** The event recorder forgets the removed pod (its correlator's entries about it). */
  events?: PodEventMemory;
  /** What the node keeps for a pod besides the runtime's objects. */
  node: {
    /** The pod's log directory is removed under it. */
    podLogsDir: string;
    /**
     * Pod cgroups (cgroupsPerQOS): a pod's cgroup may go only once its sandbox is removed, so the
     * API object is deleted after the runtime objects rather than before.
     */
    podCgroups: boolean;
  };
  logger: KubeletLogger;
  clock: Clock;
  /** Delay before a failed background cleanup is tried again (default 10 s). */
  retryMs?: number;
}

/**
 * A terminated pod's end (upstream syncTerminatedPod and the housekeeping that removes a pod):
 * its volumes torn down, its containers, sandboxes and log directory removed, its API object
 * deleted if it was deleted through the API, and everything the kubelet held about it forgotten.
 */
export class PodCleanup {
  private readonly cleaning = new Map<string, Promise<void>>();
  /** Whether a failed background cleanup is tried again (the kubelet runs). */
  private retrying = false;

  constructor(private readonly options: PodCleanupOptions) {}

  /** Failed background cleanups are tried again from now on (the kubelet started). */
  resumeRetries(): void {
    this.retrying = true;
  }

  /** No failed cleanup is tried again any more (the kubelet stops). */
  stopRetries(): void {
    this.retrying = false;
  }

  /** Upstream syncTerminatedPod: volumes torn down; a pod deleted or removed from its source is cleaned up. */
  async syncTerminatedPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    await this.options.volumes.tearDown(uid);
    this.options.syncer.releaseObjects(pod);
    const current = this.options.pods.pod(uid) ?? pod;
    if (current.metadata.deletionTimestamp !== undefined || this.options.pods.wasRemoved(uid))
      await this.cleanUp(current);
  }

  /** Removes a stopped pod's dead containers and sandboxes, then its API object if it was deleted. */
  cleanUp(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const existing = this.cleaning.get(uid);
    if (existing) return existing;
    const work = this.cleanUpOnce(pod).finally(() => this.cleaning.delete(uid));
    this.cleaning.set(uid, work);
    return work;
  }

  /**
   * A cleanup nothing awaits: a failure (e.g. the runtime unreachable) is logged and retried
   * after the retry delay while the pod is still known, never left as an unhandled rejection.
   */
  inBackground(pod: Pod): void {
    const { logger, clock, pods } = this.options;
    this.cleanUp(pod).catch((error) => {
      logger.warn({ pod: podName(pod), err: String(error) }, 'Failed to clean up pod; will retry');
      const timer = clock.setTimeout(() => {
        const current = pods.pod(pod.metadata.uid ?? '');
        if (current && this.retrying) this.inBackground(current);
      }, this.options.retryMs ?? 10_000);
      unrefTimer(timer);
    });
  }

  /** Resolves when every in-flight cleanup finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.cleaning.values()]);
  }

  private async cleanUpOnce(pod: Pod): Promise<void> {
    const { options } = this;
    const uid = pod.metadata.uid ?? '';
    // After this pod's own final status went out (not every pod's: with 110 pods deleted at
    // once, each API delete waited for the last pod's status write).
    const deleteObject = async () => {
      await options.statuses.flushPod(uid);
      if (pod.metadata.deletionTimestamp && !options.pods.wasRemoved(uid)) {
        await options.statuses
          .deletePod(pod)
          .catch((error) =>
            options.logger.warn({ pod: podName(pod), err: String(error) }, 'Failed to delete pod'),
          );
      }
    };
    // Upstream deletes the API object once the pod's resources are reclaimed (containers
    // stopped, volumes and the pod cgroup gone) and removes its containers and sandboxes later
    // (container GC). Without pod cgroups nothing left waits for RemoveContainer and
    // RemovePodSandbox; with them, the cgroup may go only once the sandbox is removed.
    const reclaimedBeforeRemoval = !options.node.podCgroups;
    if (reclaimedBeforeRemoval) {
      await options.volumes.tearDown(uid);
      await deleteObject();
    }
    const status = await options.runtimeView.refresh(pod);
    // What the runtime refuses to remove now is left to the container GC.
    await removePodRuntimeObjects(options.runtime, status, (error, id) =>
      options.logger.warn(
        { pod: podName(pod), id, err: String(error) },
        'Failed to remove container or sandbox',
      ),
    );
    // Upstream's container GC removes the log directory of a pod whose content is removed.
    await removePodLogDirectory(options.node.podLogsDir, pod);
    // Again here: a cgroup that still held the sandbox when the pod stopped is empty now.
    await options.reclaimer.podStopped(uid);
    await options.volumes.tearDown(uid);
    if (!reclaimedBeforeRemoval) await deleteObject();
    // Released at its terminated sync already; a pod cleaned up without one lets go here (a no-op otherwise).
    options.syncer.releaseObjects(pod);
    await this.forget(uid);
  }

  /** Everything held about the pod, in every part, is dropped. */
  private async forget(uid: string): Promise<void> {
    const { options } = this;
    options.pods.forget(uid);
    options.volumes.forgetPod(uid);
    options.statuses.removePod(uid);
    await options.resizer.removePod(uid);
    await options.userNamespaces?.releasePod(uid);
    options.workers.forget(uid);
    options.runtimeView.forget(uid);
    options.syncer.reasons.forget(uid);
    options.events?.forgetPod(uid);
    options.runtimeView.recountRunning();
  }
}
