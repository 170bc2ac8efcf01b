import type { Pod } from '../api/pod-types';
import { qosMemoryRequests } from './qos-memory-requests';

/**
 * qosReserved's memory under the alpha QOSReserved gate: the percentage of the higher QoS
 * classes' memory requests that the lower classes may not use, and the node allocatable it is
 * taken from (capacity − kubeReserved − systemReserved, eviction thresholds not subtracted,
 * as upstream's GetNodeAllocatableAbsolute).
 */
export interface QOSMemoryReserve {
  percent: number;
  allocatableBytes: number;
}

/** The memory limits of the burstable and besteffort QoS cgroups, in bytes. */
export interface QOSMemoryLimits {
  burstable: number;
  besteffort: number;
}

/**
 * Upstream setMemoryReserve: burstable pods together may use allocatable less `percent` of the
 * Guaranteed pods' memory requests, best-effort pods that less `percent` of the Burstable pods'
 * requests (integer division, as upstream's int64 arithmetic). Undefined with allocatable 0,
 * where upstream sets no limits.
 */
export function qosMemoryLimits(
  activePods: readonly Pod[],
  reserve: QOSMemoryReserve,
): QOSMemoryLimits | undefined {
  if (reserve.allocatableBytes === 0) return undefined;
  const { guaranteed, burstable } = qosMemoryRequests(activePods);
  const burstableLimit = reserve.allocatableBytes - Math.trunc((guaranteed * reserve.percent) / 100);
  return {
    burstable: burstableLimit,
    besteffort: burstableLimit - Math.trunc((burstable * reserve.percent) / 100),
  };
}
