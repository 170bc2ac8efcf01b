import { parseQuantity } from '@nodeagent/primitives';
import { type Container, isSidecar, type Pod } from '../api/pod-types';
import { isMemoryType } from './numa-memory';

/** Memory type → bytes a container or pod asks for (upstream's map[v1.ResourceName]uint64). */
export type MemoryRequests = Record<string, number>;

/**
 * Upstream getRequestedResources: the container's memory and huge pages requests, as the kubelet
 * admitted them (the status's allocatedResources when it has them, which a resize may have
 * changed since the spec), in whole bytes.
 */
export function containerMemoryRequests(pod: Pod, container: Container): MemoryRequests {
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(isSidecar(container) ? (pod.status?.initContainerStatuses ?? []) : []),
  ];
  const allocated = statuses.find((status) => status.name === container.name)?.allocatedResources;
  const requests = allocated ?? container.resources?.requests ?? {};
  const result: MemoryRequests = {};
  for (const [name, quantity] of Object.entries(requests))
    if (isMemoryType(name)) result[name] = Math.trunc(parseQuantity(quantity, `resources.requests.${name}`));
  return result;
}

/**
 * Upstream getPodRequestedResources: per memory type, the larger of what the app containers and
 * sidecars hold together and the peak of any init container (with the sidecars started before it).
 * Only types the app containers ask for are counted, as upstream.
 */
export function podMemoryRequests(pod: Pod): MemoryRequests {
  const byInit: MemoryRequests = {};
  const bySidecars: MemoryRequests = {};
  for (const container of pod.spec.initContainers ?? [])
    for (const [name, bytes] of Object.entries(containerMemoryRequests(pod, container))) {
      byInit[name] ??= 0;
      if (isSidecar(container)) bySidecars[name] = (bySidecars[name] ?? 0) + bytes;
      else if ((bySidecars[name] ?? 0) + bytes > byInit[name]) byInit[name] = (bySidecars[name] ?? 0) + bytes;
    }
  const byApps: MemoryRequests = {};
  for (const container of pod.spec.containers)
    for (const [name, bytes] of Object.entries(containerMemoryRequests(pod, container)))
      byApps[name] = (byApps[name] ?? 0) + bytes;
  const result: MemoryRequests = {};
  for (const [name, bytes] of Object.entries(byApps))
    result[name] = Math.max(bytes + (bySidecars[name] ?? 0), byInit[name] ?? 0);
  return result;
}
