import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { podRequests } from '../api/pod-requests';
import type { Pod, ResourceList } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';

/** Why a resize cannot be allocated now: the condition's reason, the admit reason and the message. */
export interface ResizeRefusal {
  /** PodResizePending's reason: Infeasible (never fits as asked) or Deferred (may fit later). */
  conditionReason: 'Infeasible' | 'Deferred';
  /** The admit handler's reason, as the pending event names it ("OutOfcpu", "Infeasible"). */
  reason: string;
  message: string;
}

export interface ResizeAdmissionInput {
  /** The pod with the resources asked for (its spec). */
  desired: Pod;
  /** The other active pods, with the resources allocated to them. */
  others: readonly Pod[];
  /** Node allocatable; without it only the rules that need no node figures apply. */
  allocatable?: ResourceList;
  /** A static pod (upstream: never resized in place). */
  staticPod: boolean;
  /** Whether the kubelet keeps pod cgroups (cgroupsPerQOS); a resize needs one. */
  podCgroups: boolean;
  /** Resource managers that pin Guaranteed pods' resources and cannot resize them in place. */
  pinning?: ResizePinning;
}

/**
 * Which static resource managers pin a Guaranteed pod's resources with the feature gate that
 * would let them resize off: cpuManagerPolicy static without InPlacePodVerticalScalingExclusiveCPUs,
 * memoryManagerPolicy Static without InPlacePodVerticalScalingExclusiveMemory.
 */
export interface ResizePinning {
  cpu: boolean;
  memory: boolean;
}

/** Upstream's messages for a Guaranteed pod's resize beside a static resource manager. */
export const pinnedCpuResizeMessage =
  'Resize is infeasible for Guaranteed Pods alongside CPU Manager static policy';
export const pinnedMemoryResizeMessage =
  'Resize is infeasible for Guaranteed Pods alongside Memory Manager static policy';

/** Upstream's message for a static pod's resize. */
export const staticPodResizeMessage = 'In-place resize of static-pods is not supported';
/**
 * Ours: upstream v1.36.3 panics on a resize when cgroupsPerQOS is false (no pod cgroup to
 * resize); this kubelet leaves the pod as it runs and says why.
 */
export const noPodCgroupResizeMessage =
  'In-place resize needs pod cgroups: this kubelet runs with cgroupsPerQOS: false, so the resize is not applied';

/**
 * Whether the kubelet can allocate the resources a pod asks for now (upstream
 * handlePodResourcesResize's checks, in its order): a static pod never; without pod cgroups
 * never (ours, see noPodCgroupResizeMessage); a Guaranteed pod beside a static CPU or memory
 * manager never (upstream canResizePod); more than the node's allocatable never
 * (Infeasible, "Node didn't have enough capacity: ..."); more than is left beside the other pods'
 * allocations not now (the predicate admit handler's OutOfcpu / OutOfmemory: Deferred, retried
 * when room frees up). Undefined: it fits.
 */
export function resizeRefusal(input: ResizeAdmissionInput): ResizeRefusal | undefined {
  if (input.staticPod)
    return { conditionReason: 'Infeasible', reason: 'Infeasible', message: staticPodResizeMessage };
  if (!input.podCgroups)
    return { conditionReason: 'Infeasible', reason: 'Infeasible', message: noPodCgroupResizeMessage };
  if (podQOSClass(input.desired) === 'Guaranteed') {
    if (input.pinning?.cpu)
      return { conditionReason: 'Infeasible', reason: 'Infeasible', message: pinnedCpuResizeMessage };
    if (input.pinning?.memory)
      return { conditionReason: 'Infeasible', reason: 'Infeasible', message: pinnedMemoryResizeMessage };
  }
  const allocatable = input.allocatable;
  if (!allocatable) return undefined;
  const cpuCapacity = allocatable.cpu === undefined ? Number.POSITIVE_INFINITY : milliValue(allocatable.cpu);
  const memoryCapacity =
    allocatable.memory === undefined
      ? Number.POSITIVE_INFINITY
      : Math.floor(parseQuantity(allocatable.memory));
  const wanted = podRequests(input.desired);
  if (wanted.cpuMilli > cpuCapacity || wanted.memoryBytes > memoryCapacity) {
    const what =
      wanted.memoryBytes > memoryCapacity
        ? `memory, requested: ${wanted.memoryBytes}, capacity: ${memoryCapacity}`
        : `cpu, requested: ${wanted.cpuMilli}, capacity: ${cpuCapacity}`;
    return {
      conditionReason: 'Infeasible',
      reason: 'Infeasible',
      message: `Node didn't have enough capacity: ${what}`,
    };
  }
  const used = { cpuMilli: 0, memoryBytes: 0 };
  for (const other of input.others) {
    if (other.metadata.uid === input.desired.metadata.uid) continue;
    const r = podRequests(other);
    used.cpuMilli += r.cpuMilli;
    used.memoryBytes += r.memoryBytes;
  }
  // The scheduler's resource fit, as the kubelet's predicate admit handler runs it: cpu first.
  if (wanted.cpuMilli > cpuCapacity - used.cpuMilli)
    return insufficient('cpu', wanted.cpuMilli, used.cpuMilli, cpuCapacity);
  if (wanted.memoryBytes > memoryCapacity - used.memoryBytes)
    return insufficient('memory', wanted.memoryBytes, used.memoryBytes, memoryCapacity);
  return undefined;
}

function insufficient(resource: string, requested: number, used: number, capacity: number): ResizeRefusal {
  return {
    conditionReason: 'Deferred',
    reason: `OutOf${resource}`,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
  };
}
