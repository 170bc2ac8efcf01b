import type { LinuxContainerResources, MessageInput } from '@nodeagent/cri-client/types';
import { parseQuantity } from '@nodeagent/primitives';
import type { Container, Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';

// MemoryQoS (KEP-2570, alpha and off by default in v1.36) as upstream v1.36's kubelet sets it on a
// container (kuberuntime_container_linux.go generateLinuxContainerResources): cgroup v2 files in
// the CRI resources' `unified` map, which the runtime writes into the container's cgroup.

/** The cgroup v2 memory files MemoryQoS writes (upstream cm.Cgroup2MemoryMin / Low / High): hard protection. */
export const cgroup2MemoryMin = 'memory.min';
/** Best-effort protection (upstream cm.Cgroup2MemoryLow): Burstable pods under TieredReservation. */
export const cgroup2MemoryLow = 'memory.low';
/** The throttling limit (upstream cm.Cgroup2MemoryHigh): each container's, from memoryThrottlingFactor. */
export const cgroup2MemoryHigh = 'memory.high';

/**
 * KubeletConfiguration.memoryReservationPolicy (v1.36): None (the default) writes no protection;
 * TieredReservation gives Guaranteed pods memory.min (hard) and Burstable pods memory.low (soft),
 * both their memory requests.
 */
export type MemoryReservationPolicy = 'None' | 'TieredReservation';

/**
 * The page size memory.high is rounded down to (upstream os.Getpagesize()); 4 KiB on x86-64 and
 * on the arm64 kernels Debian ships. Node has no call for it, so a 16/64 KiB-page host passes its own.
 */
export const defaultPageSize = 4096;

/** What MemoryQoS needs per container; only passed when the MemoryQoS gate is on and the host is on cgroup v2. */
export interface ContainerMemoryQoS {
  /** KubeletConfiguration.memoryThrottlingFactor (default 0.9, 0 < f ≤ 1). */
  throttlingFactor: number;
  reservationPolicy: MemoryReservationPolicy;
  /** The node's allocatable memory in bytes as last known (memory.high of a container without a limit); undefined: unknown. */
  allocatableMemory: () => number | undefined;
  /** Bytes per page; default {@link defaultPageSize}. */
  pageSize?: number;
}

/**
 * memory.high: the request plus the throttling factor's share of the room up to `ceiling` (the
 * limit, or node allocatable without one), rounded down to whole pages (KEP-2570's v1.27 formula).
 * Go's float64 arithmetic, which JavaScript numbers are.
 */
export function memoryHighBytes(
  request: number,
  ceiling: number,
  factor: number,
  pageSize = defaultPageSize,
): number {
  return Math.floor((request + (ceiling - request) * factor) / pageSize) * pageSize;
}

/** memory.min / memory.low for the container: its request, by the pod's QoS class, under TieredReservation. */
function protection(pod: Pod, request: number, policy: MemoryReservationPolicy): Record<string, string> {
  const qos = podQOSClass(pod);
  if (policy === 'TieredReservation' && request !== 0 && qos === 'Guaranteed')
    return { [cgroup2MemoryMin]: String(request) };
  if (policy === 'TieredReservation' && request !== 0 && qos === 'Burstable')
    return { [cgroup2MemoryLow]: String(request) };
  // Anything else is reset, so that a policy turned back to None releases what it reserved.
  return { [cgroup2MemoryMin]: '0', [cgroup2MemoryLow]: '0' };
}

/**
 * The unified entries MemoryQoS sets on one container. Only the container's own request and
 * limit count (not pod-level resources). memory.high is skipped when request equals limit: that
 * is a Guaranteed container, and in v1.36 also a BestEffort one (0 = 0; upstream #137685, fixed
 * after v1.36). It is set only when it lies above the request.
 */
export function containerMemoryQoSUnified(
  pod: Pod,
  container: Container,
  qos: ContainerMemoryQoS,
): Record<string, string> {
  const request = Math.ceil(
    parseQuantity(container.resources?.requests?.memory ?? 0, 'resources.requests.memory'),
  );
  const limit = Math.ceil(parseQuantity(container.resources?.limits?.memory ?? 0, 'resources.limits.memory'));
  const unified = protection(pod, request, qos.reservationPolicy);
  if (request !== limit) {
    const allocatable = qos.allocatableMemory();
    let high = 0;
    if (limit !== 0) high = memoryHighBytes(request, limit, qos.throttlingFactor, qos.pageSize);
    else if (allocatable !== undefined && allocatable > 0)
      high = memoryHighBytes(request, allocatable, qos.throttlingFactor, qos.pageSize);
    if (high !== 0 && high > request) unified[cgroup2MemoryHigh] = String(high);
  }
  return unified;
}

/** The container's CRI resources with MemoryQoS's entries merged into `unified` (upstream merges over swap's). */
export function withContainerMemoryQoS(
  resources: MessageInput<LinuxContainerResources>,
  pod: Pod,
  container: Container,
  qos: ContainerMemoryQoS,
): MessageInput<LinuxContainerResources> {
  return {
    ...resources,
    unified: { ...resources.unified, ...containerMemoryQoSUnified(pod, container, qos) },
  };
}
