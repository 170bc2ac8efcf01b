import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { isExtendedResourceName } from '../api/extended-resource-name';
import { podRequests, podResourceRequest } from '../api/pod-requests';
import type { Pod, ResourceList } from '../api/pod-types';
import { admitted, type PodAdmitHandler, type PodAdmitResult } from './admit-handler';

/** What the device manager holds, by resource: the node's allocatable never counts for less (upstream sanitizeNodeAllocatable). */
export interface PluginResourceAllocations {
  /** The devices given out or reserved, counted by resource name. */
  allocatedCounts(): Record<string, number>;
}

/** The extended resources the pod's containers name, sorted (the order the checks run in). */
function extendedResourceNames(pod: Pod): string[] {
  const names = new Set<string>();
  for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers])
    for (const list of [container.resources?.requests, container.resources?.limits])
      for (const name of Object.keys(list ?? {})) if (isExtendedResourceName(name)) names.add(name);
  return [...names].sort();
}

function refuse(resource: string, requested: number, used: number, capacity: number): PodAdmitResult {
  return {
    admit: false,
    reason: `OutOf${resource}`,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
  };
}

/**
 * Upstream's resource predicate for cpu and memory (the scheduler's NodeResourcesFit as the
 * kubelet's predicate admit handler runs it): a new pod whose requests (pod-level ones when set,
 * upstream PodRequests) do not fit beside the admitted pods in the node's allocatable is refused
 * with OutOfcpu / OutOfmemory, cpu first, then OutOfephemeral-storage (see ephemeralStorageFit),
 * then extended resources (OutOf<name>, see extendedResourcesFit). A resource the pod does not request is never checked;
 * without a known allocatable nothing is, nor for a pod `isCritical` names.
 */
export function resourceFitAdmitHandler(
  allocatable: () => ResourceList | undefined,
  isCritical: (pod: Pod) => boolean = () => false,
  pluginResources?: PluginResourceAllocations,
): PodAdmitHandler {
  return {
    admit({ pod, otherPods }) {
      const node = allocatable();
      // Upstream preempts other pods to make room for a critical pod (static, mirror, system
      // priority); this kubelet does not preempt, and lets a critical pod in rather than refuse it.
      if (!node || isCritical(pod)) return admitted;
      const wanted = podRequests(pod);
      const used = { cpuMilli: 0, memoryBytes: 0 };
      for (const other of otherPods) {
        let r: ReturnType<typeof podRequests>;
        try {
          r = podRequests(other);
        } catch {
          // An admitted pod whose quantities do not parse holds nothing this check can count.
          continue;
        }
        used.cpuMilli += r.cpuMilli;
        used.memoryBytes += r.memoryBytes;
      }
      if (node.cpu !== undefined && wanted.cpuMilli > 0) {
        const capacity = milliValue(node.cpu, 'allocatable.cpu');
        if (wanted.cpuMilli > capacity - used.cpuMilli)
          return refuse('cpu', wanted.cpuMilli, used.cpuMilli, capacity);
      }
      if (node.memory !== undefined && wanted.memoryBytes > 0) {
        const capacity = Math.floor(parseQuantity(node.memory, 'allocatable.memory'));
        if (wanted.memoryBytes > capacity - used.memoryBytes)
          return refuse('memory', wanted.memoryBytes, used.memoryBytes, capacity);
      }
      const storage = ephemeralStorageFit(pod, otherPods, node);
      if (!storage.admit) return storage;
      return extendedResourcesFit(pod, otherPods, node, pluginResources?.allocatedCounts() ?? {});
    },
  };
}

/**
 * Upstream's ephemeral-storage fit: a pod requesting some must fit beside the admitted pods'
 * requests in the Node's allocatable, read as 0 when the Node lists none, so that with
 * localStorageCapacityIsolation off (no ephemeral-storage reported) such a pod is refused.
 */
function ephemeralStorageFit(pod: Pod, otherPods: readonly Pod[], node: ResourceList): PodAdmitResult {
  const name = 'ephemeral-storage';
  const wanted = podResourceRequest(pod, name);
  if (wanted === 0) return admitted;
  const listed = node[name];
  // Upstream's Quantity.Value(): whole bytes, rounded up.
  const capacity = listed === undefined ? 0 : Math.ceil(parseQuantity(listed, `allocatable.${name}`));
  const used = requestedByOthers(otherPods, name);
  return wanted > capacity - used ? refuse(name, wanted, used, capacity) : admitted;
}

/**
 * Upstream's scalar resource fit for extended resources: only those the Node lists count
 * (removeMissingExtendedResources: others may be cluster-level resources), the allocatable of a
 * device plugin resource raised to what its devices already give out (sanitizeNodeAllocatable),
 * and a pod needing more than is left is refused with OutOf<name>.
 */
function extendedResourcesFit(
  pod: Pod,
  otherPods: readonly Pod[],
  node: ResourceList,
  allocated: Readonly<Record<string, number>>,
): PodAdmitResult {
  for (const name of extendedResourceNames(pod)) {
    const listed = node[name];
    if (listed === undefined) continue;
    const capacity = Math.max(
      Math.floor(parseQuantity(listed, `allocatable[${name}]`)),
      allocated[name] ?? 0,
    );
    const wanted = podResourceRequest(pod, name);
    if (wanted === 0) continue;
    const used = requestedByOthers(otherPods, name);
    if (wanted > capacity - used) return refuse(name, wanted, used, capacity);
  }
  return admitted;
}

/** What the admitted pods request of resource `name`, summed. */
function requestedByOthers(otherPods: readonly Pod[], name: string): number {
  let used = 0;
  for (const other of otherPods) {
    try {
      used += podResourceRequest(other, name);
    } catch {
      // An admitted pod whose quantities do not parse holds nothing this check can count.
    }
  }
  return used;
}
