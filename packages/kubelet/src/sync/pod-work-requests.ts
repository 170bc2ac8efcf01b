import type { Pod } from '../api/pod-types';
import type { PodLifecycleEvent } from '../pleg/generic-pleg';
import { isTerminalPhase } from '../status/pod-phase';
import type { StatusManager } from '../status/status-manager';
import type { PodWorkers } from '../workers/pod-workers';
import type { PodLiveness } from './container-garbage-collector';
import type { ResizerPods } from './pod-resizer';
import type { PodRuntimeView } from './pod-runtime-view';
import type { PodStateStore, PodStopReason } from './pod-state-store';

/** What the requests use of the pod workers. */
export type RequestedWorkers = Pick<PodWorkers, 'updatePod' | 'hasScheduledRetry' | 'phase' | 'isTerminated'>;

/**
 * What the parts around the pod workers ask of them and of the pod state (upstream's kubelet
 * struct answers these from its own fields): sync a known pod again (a PLEG event, a probe
 * result, a deferred resize, the periodic resync), which pods are active, evict a pod.
 *
 * The workers and the syncs they run need each other (a sync defers a resize, the resize asks
 * for a sync later), so the workers are attached once the pod lifecycle that owns them is built
 * ({@link PodWorkRequests.attach}); nothing is asked of them before the kubelet starts.
 */
export class PodWorkRequests implements ResizerPods, PodLiveness {
  private attached: RequestedWorkers | undefined;

  constructor(
    private readonly pods: PodStateStore,
    private readonly statuses: Pick<StatusManager, 'getPodStatus'>,
    private readonly runtimeView: Pick<PodRuntimeView, 'recountRunning'>,
  ) {}

  /** The pod workers the requests go to (set once, by the composition root). */
  attach(workers: RequestedWorkers): void {
    this.attached = workers;
  }

  private get workers(): RequestedWorkers {
    if (!this.attached) throw new Error('PodWorkRequests: no pod workers attached');
    return this.attached;
  }

  /** Syncs pod `uid` again if the kubelet holds it (a probe result, a deferred resize). */
  resync(uid: string): void {
    const pod = this.pods.pod(uid);
    if (pod) this.workers.updatePod({ pod, updateType: 'sync' });
  }

  /** The periodic resync (syncFrequency): every pod without a sync already scheduled. */
  resyncAll(): void {
    for (const [uid, pod] of this.pods.entries()) {
      if (!this.workers.hasScheduledRetry(uid)) this.workers.updatePod({ pod, updateType: 'sync' });
    }
  }

  /** The PLEG saw the pod's containers change: sync it, and count the running gauges again. */
  handlePlegEvent(event: PodLifecycleEvent): void {
    // Upstream isSyncPodWorthy: a removed container (collected by the GC) changes nothing to act on.
    if (event.type !== 'ContainerRemoved') this.resync(event.podUid);
    this.runtimeView.recountRunning();
  }

  /** Pods running or about to run: what the eviction manager may evict and a resize is fitted among. */
  activePods(): Pod[] {
    const { pods, statuses } = this;
    return pods.all().filter((pod) => {
      const uid = pod.metadata.uid ?? '';
      return (
        !pods.rejection(uid) &&
        this.workers.phase(uid) === 'syncing' &&
        !isTerminalPhase(statuses.getPodStatus(uid)?.phase)
      );
    });
  }

  /**
   * Upstream ShouldPodContentBeRemoved: every dead container of the pod may go when the kubelet
   * no longer holds it, or has terminated it and it was deleted or evicted. A pod that merely
   * finished keeps its newest dead instances, and their logs (`kubectl logs` of a finished Job).
   */
  contentRemovable(uid: string): boolean {
    const pod = this.pods.pod(uid);
    if (!pod) return true;
    const deleted = Boolean(pod.metadata.deletionTimestamp);
    return this.workers.isTerminated(uid) && (deleted || this.pods.eviction(uid) !== undefined);
  }

  /** Whether the kubelet holds the pod at all (the container GC removes everything of the rest). */
  isKnown(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** Upstream evictPod: kill with the eviction's grace period; the pod ends Failed with reason Evicted. */
  evict(pod: Pod, gracePeriodSeconds: number, status: PodStopReason): boolean {
    const uid = pod.metadata.uid ?? '';
    if (!this.pods.has(uid) || this.workers.phase(uid) !== 'syncing') return false;
    this.pods.evict(uid, status);
    this.workers.updatePod({ pod, updateType: 'kill', gracePeriodSeconds });
    return true;
  }
}
