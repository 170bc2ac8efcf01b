import { parseQuantity } from '@nodeagent/primitives';
import type { Container, Pod } from './pod-types';

/**
 * A pod's quality-of-service class (see podQOSClass); it decides the pod's cgroup parent, its OOM score adjustment
 * and its eviction order.
 */
export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const computeResources = ['cpu', 'memory'] as const;

/**
 * Upstream GetPodQOS: BestEffort when no container asks for cpu or memory, Guaranteed when every
 * container has cpu and memory limits equal to its requests (requests default to limits),
 * Burstable otherwise.
 */
export function podQOSClass(pod: Pod): QOSClass {
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
