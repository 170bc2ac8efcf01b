import type { Clock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import type { PodEventRecorder } from '../events/event-reasons';
import type { PodWorkers } from '../workers/pod-workers';
import type { ShutdownKillPod, WaitForUnmount } from './kill-pods-by-priority';

/** Upstream's reason for a pod stopped for the node's shutdown. */
export const nodeShutdownReason = 'Terminated';
/** Upstream's message for such a pod, also its DisruptionTarget condition's. */
export const nodeShutdownMessage = 'Pod was terminated in response to imminent node shutdown.';

// How often the pod's worker is looked at while waiting for it to stop; upstream waits on a channel.
const pollMs = 200;

/**
 * Upstream killPodNow for the node shutdown manager: the pod's worker is asked to kill it with
 * the grace period (as an eviction: the pod ends Failed with reason Terminated, the shutdown
 * message and DisruptionTarget True, reason TerminationByKubelet); resolves once the worker has
 * stopped its containers, and rejects as upstream ("timeout waiting to kill pod", with a Warning
 * ExceededGracePeriod event on the pod) after 1.5x the grace period, at least 10 s. Only active pods are asked for, so none is Succeeded already,
 * which upstream's status function alone would keep.
 */
export function kubeletShutdownKill(
  requests: {
    /** Kills the pod with the grace period and the stop reason (the kubelet's PodWorkRequests.evict). */
    evict(pod: Pod, gracePeriodSeconds: number, status: { reason: string; message: string }): boolean;
  },
  workers: Pick<PodWorkers, 'phase'>,
  clock: Clock,
  recordPodEvent?: PodEventRecorder,
): ShutdownKillPod {
  return (pod: Pod, gracePeriodSeconds: number) => {
    const uid = pod.metadata.uid ?? '';
    requests.evict(pod, gracePeriodSeconds, { reason: nodeShutdownReason, message: nodeShutdownMessage });
    const timeoutMs = Math.max(10_000, Math.floor(gracePeriodSeconds * 1.5) * 1000);
    const deadline = clock.now() + timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const look = () => {
        const phase = workers.phase(uid);
        if (phase === undefined || phase === 'terminated') return resolve();
        if (clock.now() >= deadline) {
          recordPodEvent?.(
            pod,
            'Warning',
            'ExceededGracePeriod',
            'Container runtime did not kill the pod within specified grace period.',
          );
          return reject(new Error('timeout waiting to kill pod'));
        }
        clock.setTimeout(look, pollMs);
      };
      look();
    });
  };
}

/**
 * WaitForAllPodsUnmount over the pod workers: a pod's volumes are torn down by its cleanup
 * (syncTerminatedPod), so this resolves once every pod's cleanup has succeeded, looking every
 * 200 ms; it rejects when `signal` aborts.
 */
export function kubeletWaitForUnmount(
  workers: Pick<PodWorkers, 'isCleanedUp'>,
  clock: Clock,
): WaitForUnmount {
  return (pods, signal) =>
    new Promise<void>((resolve, reject) => {
      const look = () => {
        if (pods.every((pod) => workers.isCleanedUp(pod.metadata.uid ?? ''))) return resolve();
        if (signal.aborted) return reject(new Error('context deadline exceeded'));
        clock.setTimeout(look, pollMs);
      };
      look();
    });
}
