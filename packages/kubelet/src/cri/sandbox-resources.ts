import type { LinuxContainerResources, MessageInput } from '@nodeagent/cri-client/types';
import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { podLevelRequest } from '../api/pod-level-resources';
import { podResourceLimit, podResourceRequest } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import { type CalculateLinuxResourceOptions, calculateLinuxResources } from './linux-resources';

/** The host facts that shape a sandbox's CRI resources: the same the containers' resources are made from. */
export type SandboxResourceOptions = CalculateLinuxResourceOptions;

/**
 * Whether upstream's PodRequests has a cpu entry: a pod-level cpu request, or any (init or app) container naming
 * one. A container's cpu limit counts, as the API server copies it into a missing request.
 */
function podNamesCPURequest(pod: Pod): boolean {
  if (podLevelRequest(pod, 'cpu') !== undefined) return true;
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some(
    (c) => c.resources?.requests?.cpu !== undefined || c.resources?.limits?.cpu !== undefined,
  );
}

/**
 * Upstream PodLimits with ExcludeOverhead for one resource. podResourceLimit adds spec.overhead to a non-zero limit
 * only, so taking it back from a non-zero one is exact (both are whole millicores or bytes).
 */
function podLimitWithoutOverhead(pod: Pod, name: 'cpu' | 'memory'): number {
  const { value } = podResourceLimit(pod, name);
  const overhead = pod.spec.overhead?.[name];
  if (value === 0 || overhead === undefined) return value;
  const field = `spec.overhead.${name}`;
  return value - (name === 'cpu' ? milliValue(overhead, field) : Math.ceil(parseQuantity(overhead, field)));
}

/**
 * Upstream calculateSandboxResources: the pod's aggregate requests and limits (pod-level values where set, init
 * containers and sidecars as the scheduler counts them, spec.overhead left out) as CRI Linux resources, so a
 * runtime that sizes the sandbox itself (a VM) knows what the pod will use.
 */
export function sandboxResources(
  pod: Pod,
  options: SandboxResourceOptions,
): MessageInput<LinuxContainerResources> {
  const cpuRequest = podNamesCPURequest(pod)
    ? podResourceRequest(pod, 'cpu', { excludeOverhead: true })
    : undefined;
  return calculateLinuxResources(
    cpuRequest,
    podLimitWithoutOverhead(pod, 'cpu'),
    podLimitWithoutOverhead(pod, 'memory'),
    options,
  );
}

/**
 * Upstream convertOverheadToLinuxResources: spec.overhead (from the pod's RuntimeClass) as CRI Linux resources,
 * requests equal to limits; an empty message when the pod has no overhead.
 */
export function sandboxOverhead(
  pod: Pod,
  options: SandboxResourceOptions,
): MessageInput<LinuxContainerResources> {
  const overhead = pod.spec.overhead;
  if (overhead == null) return {};
  const cpu = overhead.cpu !== undefined ? milliValue(overhead.cpu, 'spec.overhead.cpu') : 0;
  const memory =
    overhead.memory !== undefined ? Math.ceil(parseQuantity(overhead.memory, 'spec.overhead.memory')) : 0;
  return calculateLinuxResources(cpu, cpu, memory, options);
}
