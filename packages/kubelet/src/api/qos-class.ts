import { parseQuantity } from '@nodeagent/primitives';
import { hasPodLevelResources } from './pod-level-resources';
import type { Container, Pod, ResourceRequirements } from './pod-types';

/**
 * A pod's quality-of-service class (see podQOSClass); it decides the pod's cgroup parent, its OOM score adjustment
 * and its eviction order.
 */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const computeResources = ['cpu', 'memory'] as const;

/**
 * A quantity's value, 0 when absent or unparsable: the class is reported even for a pod refused
 * for such a value (an unvalidated static pod), whose status must still be written.
 */
function quantityOrZero(value: string | number | undefined): number {
  if (value === undefined) return 0;
  try {
    return parseQuantity(value);
  } catch {
    return 0;
  }
}

/**
 * Upstream ComputePodQOS with pod-level resources: only `spec.resources` counts (cpu and memory, positive values).
 * BestEffort when it asks for neither, Guaranteed when it limits both and every request equals its limit, Burstable
 * otherwise; the containers' own resources do not matter then.
 */
function podLevelQOSClass(resources: ResourceRequirements): QOSClass {
  const positive = (list: ResourceRequirements['limits']) => {
    const out = new Map<string, number>();
    for (const resource of computeResources) {
      const value = quantityOrZero(list?.[resource]);
      if (value > 0) out.set(resource, value);
    }
    return out;
  };
  const requests = positive(resources.requests);
  const limits = positive(resources.limits);
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (limits.size !== computeResources.length) return 'Burstable';
  for (const [resource, value] of requests) if (limits.get(resource) !== value) return 'Burstable';
  return 'Guaranteed';
}

/**
 * Upstream GetPodQOS: with pod-level resources, from those alone (podLevelQOSClass); otherwise BestEffort when no container asks for cpu or memory, Guaranteed when every
 * container has cpu and memory limits equal to its requests (requests default to limits),
 * Burstable otherwise.
 */
export function podQOSClass(pod: Pod): QOSClass {
  if (hasPodLevelResources(pod)) return podLevelQOSClass(pod.spec.resources ?? {});
  const containers: Container[] = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let anySet = false;
  let guaranteed = true;
  for (const container of containers) {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    for (const resource of computeResources) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (limit !== undefined || request !== undefined) {
        if (parseQuantity(limit ?? 0) !== 0 || parseQuantity(request ?? 0) !== 0) anySet = true;
      }
      if (limit === undefined || request === undefined || parseQuantity(limit) !== parseQuantity(request)) {
        guaranteed = false;
      }
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
