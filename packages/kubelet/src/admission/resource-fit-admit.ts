import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { podRequests } from '../api/pod-requests';
import type { Pod, ResourceList } from '../api/pod-types';
import { admitted, type PodAdmitHandler, type PodAdmitResult } from './admit-handler';

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
 * with OutOfcpu / OutOfmemory, cpu first. A resource the pod does not request is never checked;
 * without a known allocatable nothing is, nor for a pod `isCritical` names.
 */
export function resourceFitAdmitHandler(
  allocatable: () => ResourceList | undefined,
  isCritical: (pod: Pod) => boolean = () => false,
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
      return admitted;
    },
  };
}
