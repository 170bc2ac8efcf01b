import type { Pod } from '../api/pod-types';
import { emptyPodRuntimeStatus, hasReadySandbox, type PodRuntimeStatus } from '../cri/runtime-state';
import type { KubeletMetrics } from '../metrics';
import type { GenericPLEG } from '../pleg/generic-pleg';
import type { PodCache } from '../pleg/pod-cache';

/**
 * The syncs' view of the runtime (upstream's pod cache as the pod workers read it): a pod's
 * state as the PLEG cache holds it, a fresh read of one pod into that cache, and the running
 * pod and container gauges counted from it.
 */
export class PodRuntimeView {
  constructor(
    private readonly pleg: GenericPLEG,
    private readonly cache: PodCache,
    private readonly metrics: KubeletMetrics,
  ) {}

  /**
   * The pod's runtime state as the cache holds it (its last sync read it back, or a later relist
   * saw it); a pod the cache does not know has nothing once a relist has run, otherwise it is
   * read from the runtime.
   */
  async status(pod: Pod): Promise<PodRuntimeStatus> {
    const cached = this.cache.get(pod.metadata.uid ?? '')?.status;
    if (cached) return cached;
    if (!this.pleg.relisted) return this.refresh(pod);
    const { uid = '', name = '', namespace = 'default' } = pod.metadata;
    return emptyPodRuntimeStatus(uid, name, namespace);
  }

  /** The pod's state as the cache holds it now, without reading the runtime. */
  cached(uid: string): PodRuntimeStatus | undefined {
    return this.cache.get(uid)?.status;
  }

  /** Reads the pod's sandboxes and containers from the runtime into the cache. */
  refresh(pod: Pod): Promise<PodRuntimeStatus> {
    return this.pleg.refreshPod(
      pod.metadata.uid ?? '',
      pod.metadata.name ?? '',
      pod.metadata.namespace ?? 'default',
    );
  }

  /**
   * After a sync whose actions all succeeded (upstream SyncPod's postSync, RequestPodRelist):
   * with the PLEGOnDemandRelist gate the PLEG relists this one pod now (its events, the cache,
   * kubelet_pleg_pod_relist_duration_seconds) and the sync reports what it read; without the
   * gate nothing reads the pod until the next periodic relist, as upstream, and the sync reports
   * `before`, the state it started from. A failed read also leaves `before`: that relist retries.
   */
  async relistAfterSync(pod: Pod, before: PodRuntimeStatus): Promise<PodRuntimeStatus> {
    if (!this.pleg.onDemandRelist) return before;
    const { uid = '', name = '', namespace = 'default' } = pod.metadata;
    return (await this.pleg.relistPod(uid, name, namespace)) ?? before;
  }

  /** The pod's cleanup is done: the PLEG forgets it. */
  forget(uid: string): void {
    this.pleg.forgetPod(uid);
  }

  /** The running pod and container gauges, counted again from the cache. */
  recountRunning(): void {
    // Loops, not callbacks made per call: this runs at each PLEG event (see PodCache.all).
    let runningPods = 0;
    const counts: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
    for (const status of this.cache.all()) {
      if (hasReadySandbox(status)) runningPods++;
      for (const c of status.containers) counts[c.state] = (counts[c.state] ?? 0) + 1;
    }
    this.metrics.runningPods.set(runningPods);
    for (const [state, count] of Object.entries(counts))
      this.metrics.runningContainers.set({ container_state: state }, count);
  }
}
