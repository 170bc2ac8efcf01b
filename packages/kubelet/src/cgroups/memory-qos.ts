import { podRequests } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import {
  cgroup2MemoryLow,
  cgroup2MemoryMin,
  type MemoryReservationPolicy,
} from '../cri/container-memory-qos';
import { qosMemoryRequests } from './qos-memory-requests';

// MemoryQoS (KEP-2570) on the cgroups the kubelet itself manages, as upstream v1.36: the pod
// cgroup (helpers_linux.go ResourceConfigForPod) and the QoS cgroups (qos_container_manager_linux.go
// setMemoryQoS). Containers get theirs through the runtime (cri/container-memory-qos.ts).
// cgroup v2 wants a parent's protection at least the sum of its children's, hence the QoS sums.

/** Enforced MemoryQoS as the pod cgroup manager sees it: the gate is on (the manager checks cgroup v2). */
export interface PodMemoryQoS {
  reservationPolicy: MemoryReservationPolicy;
}

/**
 * The pod cgroup's MemoryQoS files: under TieredReservation a Guaranteed pod's memory.min and a
 * Burstable pod's memory.low are its memory request (when it has one); nothing otherwise.
 */
export function podMemoryProtection(pod: Pod, policy: MemoryReservationPolicy): Record<string, string> {
  const request = podRequests(pod).memoryBytes;
  if (policy !== 'TieredReservation' || request <= 0) return {};
  const qos = podQOSClass(pod);
  if (qos === 'Guaranteed') return { [cgroup2MemoryMin]: String(request) };
  if (qos === 'Burstable') return { [cgroup2MemoryLow]: String(request) };
  return {};
}

/** The QoS cgroups' MemoryQoS files: kubepods (the Guaranteed tier's cgroup) and kubepods/burstable. */
export interface QOSMemoryProtection {
  guaranteed: Record<string, string>;
  burstable: Record<string, string>;
}

/**
 * Upstream setMemoryQoS: under TieredReservation, kubepods' memory.min is every Guaranteed and
 * Burstable pod's request (it is the parent of both), the burstable cgroup's memory.low the
 * Burstable pods' requests; with policy None both are set to 0, so turning reservation off
 * releases what was reserved.
 */
export function qosMemoryProtection(
  activePods: readonly Pod[],
  policy: MemoryReservationPolicy,
): QOSMemoryProtection {
  if (policy !== 'TieredReservation')
    return { guaranteed: { [cgroup2MemoryMin]: '0' }, burstable: { [cgroup2MemoryLow]: '0' } };
  const { guaranteed, burstable } = qosMemoryRequests(activePods);
  return {
    guaranteed: { [cgroup2MemoryMin]: String(guaranteed + burstable) },
    burstable: { [cgroup2MemoryLow]: String(burstable) },
  };
}

/** What the node reserves for its pods under MemoryQoS, in bytes (the kubelet_memory_qos_node_* gauges). */
export interface NodeMemoryProtection {
  /** memory.min of every Guaranteed pod's cgroup, summed. */
  minBytes: number;
  /** memory.low of every Burstable pod's cgroup, summed. */
  lowBytes: number;
}

/**
 * Upstream v1.36 setMemoryQoS's node-wide totals: the Guaranteed pods' memory.min and the
 * Burstable pods' memory.low, i.e. their memory requests under TieredReservation; 0 with policy
 * None, where the pod cgroups get no protection.
 */
export function nodeMemoryProtection(
  activePods: readonly Pod[],
  policy: MemoryReservationPolicy,
): NodeMemoryProtection {
  if (policy !== 'TieredReservation') return { minBytes: 0, lowBytes: 0 };
  const { guaranteed, burstable } = qosMemoryRequests(activePods);
  return { minBytes: guaranteed, lowBytes: burstable };
}

/**
 * The kernel release below which upstream v1.36 warns at start with the gate on: memory.high
 * throttling can livelock before Linux 5.9. Informational; the feature still runs.
 */
export function memoryHighLivelockKernel(release: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(release);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major < 5 || (major === 5 && minor < 9);
}
