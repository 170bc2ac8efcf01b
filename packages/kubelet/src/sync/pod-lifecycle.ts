import type { Clock } from '@nodeagent/primitives';
import { podName } from '../api/pod-name';
import type { Pod } from '../api/pod-types';
import type { KubeletLogger } from '../kubelet-logger';
import {
  type PodUpdateType,
  type PodWorkerCallbacks,
  type PodWorkerPhase,
  PodWorkers,
  type SyncPodResult,
} from '../workers/pod-workers';
import { PodCleanup, type PodCleanupOptions } from './pod-cleanup';
import { type PodSyncContext, syncPod } from './sync-pod';
import { type PodTerminationContext, syncTerminatingPod } from './sync-terminating-pod';

/** What the pod workers and the three syncs they dispatch are built from. */
export interface PodLifecycleOptions {
  /** What the one sync of a running pod reads and reports to (sync-pod.ts). */
  running: PodSyncContext;
  /** What stopping a pod reads and reports to (sync-terminating-pod.ts). */
  stopping: PodTerminationContext;
  /** What a terminated pod's cleanup removes it from (its worker is this lifecycle's). */
  cleanup: Omit<PodCleanupOptions, 'workers'>;
  /** The workers' retry delay after a failed step, and the longest a requested retry waits. */
  retries: { retryMs?: number; maxRetryMs?: number; clock: Clock };
  logger: KubeletLogger;
}

/**
 * A pod's life as upstream's pod workers drive it: one worker per pod calls the sync of a running
 * pod (sync-pod.ts), then the terminating sync (sync-terminating-pod.ts), then the terminated one
 * (pod-cleanup.ts). Built together because the cleanup forgets the pod's worker at its end.
 */
export class PodLifecycle implements PodWorkerCallbacks {
  readonly workers: PodWorkers;
  readonly cleanup: PodCleanup;
  private readonly options: PodLifecycleOptions;

  constructor(options: PodLifecycleOptions) {
    this.options = options;
    this.workers = new PodWorkers(this, options.retries);
    this.cleanup = new PodCleanup({ ...options.cleanup, workers: this.workers });
  }

  syncPod(pod: Pod, updateType: Exclude<PodUpdateType, 'kill'>): Promise<SyncPodResult> {
    return syncPod(this.options.running, pod, updateType);
  }

  syncTerminatingPod(pod: Pod, gracePeriodSeconds: number | undefined): Promise<void> {
    return syncTerminatingPod(this.options.stopping, pod, gracePeriodSeconds);
  }

  syncTerminatedPod(pod: Pod): Promise<void> {
    return this.cleanup.syncTerminatedPod(pod);
  }

  onError(pod: Pod, stage: PodWorkerPhase, error: unknown): void {
    this.options.logger.error({ pod: podName(pod), stage, err: String(error) }, 'Pod sync failed');
  }
}
