import type { CoreV1Event } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { type Clock, systemClock } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';

export type PodEventType = 'Normal' | 'Warning';
export type PodEventRecorder = (pod: Pod, type: PodEventType, reason: string, message: string) => void;

export interface ApiEventRecorderOptions {
  nodeName: string;
  clock?: Clock;
  /** Called when the API server refuses an event; events are best effort, as upstream's. */
  onError?: (error: unknown) => void;
}

/**
 * Pod events as upstream's kubelet recorder writes them (core/v1 Event, source component
 * "kubelet" on this host, name "<pod>.<unix nanoseconds in hex>"), so `kubectl describe pod`
 * and `kubectl get events` show why the kubelet refused or failed a pod. Each call posts one
 * event without waiting; upstream's aggregation of repeats is not done.
 */
export function apiEventRecorder(
  core: Pick<CoreV1Requests, 'createNamespacedEvent'>,
  options: ApiEventRecorderOptions,
): PodEventRecorder {
  const clock = options.clock ?? systemClock;
  return (pod, type, reason, message) => {
    const now = clock.now();
    const timestamp = new Date(now);
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const body: CoreV1Event = {
      metadata: { name: `${name}.${(BigInt(now) * 1_000_000n).toString(16)}`, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name, uid: pod.metadata.uid },
      type,
      reason,
      message,
      source: { component: 'kubelet', host: options.nodeName },
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: options.nodeName,
    };
    core.createNamespacedEvent({ namespace, body }).catch((error) => options.onError?.(error));
  };
}
