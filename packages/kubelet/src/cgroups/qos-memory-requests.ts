import { podRequests } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';

/** The memory requests of the active Guaranteed and Burstable pods, each class summed, in bytes. */
export interface QOSMemoryRequests {
  guaranteed: number;
  burstable: number;
}

/**
 * Upstream getQoSMemoryRequests: every active pod's memory request (PodRequests: pod-level when
 * set, init containers and overhead counted) added to its QoS class's total; best-effort pods
 * request none.
 */
export function qosMemoryRequests(activePods: readonly Pod[]): QOSMemoryRequests {
  const totals = { guaranteed: 0, burstable: 0 };
  for (const pod of activePods) {
    const qos = podQOSClass(pod);
    if (qos === 'Guaranteed') totals.guaranteed += podRequests(pod).memoryBytes;
    else if (qos === 'Burstable') totals.burstable += podRequests(pod).memoryBytes;
  }
  return totals;
}
