import type { Pod, ResourceList } from './pod-types';

/** The prefix of the huge page resources (`hugepages-2Mi`, `hugepages-1Gi`), which pod-level resources may set. */
export const hugePagesResourcePrefix = 'hugepages-';

/**
 * Upstream IsSupportedPodLevelResource: only cpu, memory and huge pages may be set in `spec.resources`; anything else
 * there (the API server refuses it) is ignored by the kubelet.
 */
export function isSupportedPodLevelResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name.startsWith(hugePagesResourcePrefix);
}

function setsSupported(list: ResourceList | undefined): boolean {
  return Object.keys(list ?? {}).some(isSupportedPodLevelResource);
}

/** Upstream IsPodLevelRequestsSet: `spec.resources.requests` names a supported resource. */
export function hasPodLevelRequests(pod: Pod): boolean {
  return setsSupported(pod.spec.resources?.requests);
}

/** Upstream IsPodLevelLimitsSet: `spec.resources.limits` names a supported resource. */
export function hasPodLevelLimits(pod: Pod): boolean {
  return setsSupported(pod.spec.resources?.limits);
}

/**
 * Upstream IsPodLevelResourcesSet: the pod sizes itself as a whole. Then the pod-level values, not the sum over its
 * containers, decide its QoS class, its cgroup and its admission, and its containers without limits get the pod's.
 */
export function hasPodLevelResources(pod: Pod): boolean {
  return hasPodLevelRequests(pod) || hasPodLevelLimits(pod);
}

/** The pod-level request for `name`, or undefined when the pod sets none (then the containers' sum counts). */
export function podLevelRequest(pod: Pod, name: string): string | number | undefined {
  return isSupportedPodLevelResource(name) ? pod.spec.resources?.requests?.[name] : undefined;
}

/** The pod-level limit for `name`, or undefined when the pod sets none. */
export function podLevelLimit(pod: Pod, name: string): string | number | undefined {
  return isSupportedPodLevelResource(name) ? pod.spec.resources?.limits?.[name] : undefined;
}
