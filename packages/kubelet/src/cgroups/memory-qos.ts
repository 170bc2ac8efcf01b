import { parseQuantity } from '@nodeagent/primitives';
import { podLevelRequest } from '../api/pod-level-resources';
import type { Container, Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import {
  cgroup2MemoryLow,
  cgroup2MemoryMin,
  type MemoryReservationPolicy,
} from '../cri/container-memory-qos';

// MemoryQoS (KEP-2570) on the cgroups the kubelet itself manages, as upstream v1.36: the pod
// cgroup (helpers_linux.go ResourceConfigForPod) and the QoS cgroups (qos_container_manager_linux.go
// setMemoryQoS). Containers get theirs through the runtime (cri/container-memory-qos.ts).
// cgroup v2 wants a parent's protection at least the sum of its children's, hence the QoS sums.

/** Enforced MemoryQoS as the pod cgroup manager sees it: the gate is on (the manager checks cgroup v2). */
export interface PodMemoryQoS {
  reservationPolicy: MemoryReservationPolicy;
}

function memoryRequest(container: Container): number {
  const request = container.resources?.requests?.memory;
  return request === undefined ? 0 : Math.ceil(parseQuantity(request, 'resources.requests.memory'));
}

/**
 * The pod's memory request (upstream resource.PodRequests[memory]): app containers and sidecars
 * add up, a regular init container runs beside the sidecars started before it, a pod-level
 * request replaces the containers' figure, and the pod overhead is added.
 */
export function podMemoryRequestBytes(pod: Pod): number {
  let sum = 0;
  let sidecars = 0;
  let initPeak = 0;
  for (const container of pod.spec.initContainers ?? []) {
    if (container.restartPolicy === 'Always') {
      sum += memoryRequest(container);
      sidecars += memoryRequest(container);
    } else initPeak = Math.max(initPeak, sidecars + memoryRequest(container));
  }
  for (const container of pod.spec.containers) sum += memoryRequest(container);
  const level = podLevelRequest(pod, 'memory');
  const requested =
    level === undefined
      ? Math.max(sum, initPeak)
      : Math.ceil(parseQuantity(level, 'spec.resources.requests.memory'));
  const overhead = pod.spec.overhead?.memory;
  return (
    requested + (overhead === undefined ? 0 : Math.ceil(parseQuantity(overhead, 'spec.overhead.memory')))
  );
}

/**
 * The pod cgroup's MemoryQoS files: under TieredReservation a Guaranteed pod's memory.min and a
 * Burstable pod's memory.low are its memory request (when it has one); nothing otherwise.
 */
export function podMemoryProtection(pod: Pod, policy: MemoryReservationPolicy): Record<string, string> {
  const request = podMemoryRequestBytes(pod);
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
  let guaranteed = 0;
  let burstable = 0;
  for (const pod of activePods) {
    const qos = podQOSClass(pod);
    if (qos === 'Guaranteed') guaranteed += podMemoryRequestBytes(pod);
    else if (qos === 'Burstable') burstable += podMemoryRequestBytes(pod);
  }
  return {
    guaranteed: { [cgroup2MemoryMin]: String(guaranteed + burstable) },
    burstable: { [cgroup2MemoryLow]: String(burstable) },
  };
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
