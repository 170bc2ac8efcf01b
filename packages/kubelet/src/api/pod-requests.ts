import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { podLevelRequest } from './pod-level-resources';
import type { Container, Pod } from './pod-types';

/** A pod's CPU (millicores) and memory (bytes) requests. */
export interface PodRequests {
  cpuMilli: number;
  memoryBytes: number;
}

function containerRequests(container: Container): PodRequests {
  const requests = container.resources?.requests ?? {};
  return {
    cpuMilli: requests.cpu === undefined ? 0 : milliValue(requests.cpu, 'resources.requests.cpu'),
    memoryBytes:
      requests.memory === undefined ? 0 : Math.ceil(parseQuantity(requests.memory, 'requests.memory')),
  };
}

/**
 * Upstream PodRequests: app containers and sidecars add up; a regular init container runs alone
 * (beside the sidecars started before it), so the pod needs at least that much; a pod-level
 * request (spec.resources) replaces that sum for its resource; plus overhead.
 */
export function podRequests(pod: Pod): PodRequests {
  const sum = containerRequestsSum(pod);
  const cpu = podLevelRequest(pod, 'cpu');
  const memory = podLevelRequest(pod, 'memory');
  const overhead = pod.spec.overhead ?? {};
  return {
    cpuMilli:
      (cpu === undefined ? sum.cpuMilli : milliValue(cpu, 'spec.resources.requests.cpu')) +
      (overhead.cpu ? milliValue(overhead.cpu) : 0),
    memoryBytes:
      (memory === undefined
        ? sum.memoryBytes
        : Math.ceil(parseQuantity(memory, 'spec.resources.requests.memory'))) +
      (overhead.memory ? parseQuantity(overhead.memory) : 0),
  };
}

/** Upstream AggregateContainerRequests (cpu and memory): what the containers ask for together, overhead left out. */
function containerRequestsSum(pod: Pod): PodRequests {
  const sum = { cpuMilli: 0, memoryBytes: 0 };
  const sidecarsSoFar = { cpuMilli: 0, memoryBytes: 0 };
  let initPeak = { cpuMilli: 0, memoryBytes: 0 };
  for (const container of pod.spec.initContainers ?? []) {
    const r = containerRequests(container);
    if (container.restartPolicy === 'Always') {
      sum.cpuMilli += r.cpuMilli;
      sum.memoryBytes += r.memoryBytes;
      sidecarsSoFar.cpuMilli += r.cpuMilli;
      sidecarsSoFar.memoryBytes += r.memoryBytes;
    } else {
      initPeak = {
        cpuMilli: Math.max(initPeak.cpuMilli, sidecarsSoFar.cpuMilli + r.cpuMilli),
        memoryBytes: Math.max(initPeak.memoryBytes, sidecarsSoFar.memoryBytes + r.memoryBytes),
      };
    }
  }
  for (const container of pod.spec.containers) {
    const r = containerRequests(container);
    sum.cpuMilli += r.cpuMilli;
    sum.memoryBytes += r.memoryBytes;
  }
  return {
    cpuMilli: Math.max(sum.cpuMilli, initPeak.cpuMilli),
    memoryBytes: Math.max(sum.memoryBytes, initPeak.memoryBytes),
  };
}
