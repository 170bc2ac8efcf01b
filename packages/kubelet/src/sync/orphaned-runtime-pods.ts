import type { Pod } from '../api/pod-types';
import type { PodRuntime } from '../cri/pod-runtime';
import { podFromContainerAnnotations } from '../cri/restored-pod-spec';
import { isAnythingRunning, type PodRuntimeStatus } from '../cri/runtime-state';
import type { KubeletLogger } from '../kubelet-logger';
import type { PodCache } from '../pleg/pod-cache';
import type { PodStateReader } from './pod-state-store';
import type { PodSyncer } from './pod-syncer';

/**
 * Upstream's grace period override for a pod the runtime runs that the kubelet does not know: a
 * removed static pod would already be terminating, so such a pod was orphaned by a restart.
 */
export const ORPHANED_POD_GRACE_PERIOD_SECONDS = 1;

/** What {@link OrphanedRuntimePods} reads and kills through. */
export interface OrphanedRuntimePodsOptions {
  /** The kubelet's pods: one it holds (from a source, or still being cleaned up) is never an orphan. */
  pods: PodStateReader;
  /** The runtime's pods as the last relist or sync saw them (upstream's runtime cache). */
  cache: PodCache;
  syncer: Pick<PodSyncer, 'killPod'>;
  /** Reads the orphan's containers' annotations: the spec they were made from (preStop hooks). */
  runtime: Pick<PodRuntime, 'containerAnnotations'>;
  logger: KubeletLogger;
}

/**
 * The first sweep of upstream's HandlePodCleanups: a pod the runtime still runs (a running
 * container or a ready sandbox) that the kubelet does not hold, typically one deleted (or a
 * static pod's manifest removed) while the kubelet was down, is killed with a 1 s grace period
 * override ("Clean up orphaned pod containers"). Its dead containers and sandbox then go with the
 * container GC, its cgroup with the orphaned pod cgroups and its directory with the orphaned pod
 * directories. Only once every pod source is ready: before that, a pod not seen yet may be one
 * the sources are about to give.
 */
export class OrphanedRuntimePods {
  /**
   * The runtime status each orphan was killed from: while the cache still holds that very
   * observation (no relist since, or the kill still running), the pod is not killed again.
   */
  private readonly killedFrom = new Map<string, PodRuntimeStatus>();

  constructor(private readonly options: OrphanedRuntimePodsOptions) {}

  /** Kills every orphaned running pod; resolves when those kills ended (a failure is logged and tried again at the next sweep). */
  async killOrphans(): Promise<void> {
    const { pods, cache, syncer, logger } = this.options;
    const kills: Promise<void>[] = [];
    for (const status of cache.all()) {
      const { uid } = status;
      if (pods.pod(uid) !== undefined || this.killedFrom.get(uid) === status || !isAnythingRunning(status))
        continue;
      logger.info({ podUID: uid }, 'Clean up orphaned pod containers');
      this.killedFrom.set(uid, status);
      kills.push(
        this.restoredPod(status)
          .then((pod) => syncer.killPod(pod, status, ORPHANED_POD_GRACE_PERIOD_SECONDS))
          .catch((error: unknown) => {
            logger.error(
              { podUID: uid, pod: `${status.namespace}/${status.name}`, err: String(error) },
              'Failed to kill an orphaned pod',
            );
            // Tried again at the next sweep, whatever the cache holds by then.
            this.killedFrom.delete(uid);
          }),
      );
    }
    // What the cache no longer holds, or holds newer, is not held here either.
    for (const [uid, status] of this.killedFrom)
      if (cache.get(uid)?.status !== status) this.killedFrom.delete(uid);
    await Promise.all(kills);
  }

  /**
   * The orphan's spec as its running containers' annotations give it, as upstream's kill restores
   * it: their preStop hooks run (within the override) and each stop is a `Killing` event. None
   * when the runtime cannot say: the containers are stopped without their hooks.
   */
  private async restoredPod(status: PodRuntimeStatus): Promise<Pod | undefined> {
    const { runtime } = this.options;
    if (!runtime.containerAnnotations) return undefined;
    const running = status.containers.filter((c) => c.state === 'running' || c.state === 'created');
    const containers = await Promise.all(
      running.map(async (c) => ({
        name: c.name,
        annotations: (await runtime.containerAnnotations?.(c.id)) ?? {},
      })),
    );
    return podFromContainerAnnotations(status, containers);
  }
}
