import { isMirrorPod, isStaticPod } from '../api/config-source';
import type { Pod } from '../api/pod-types';

/** Upstream scheduling.SystemCriticalPriority: priorities at or above it mark system-critical pods. */
export const systemCriticalPriority = 2_000_000_000;

/**
 * Upstream IsCriticalPod: static pods, mirror pods and pods with a system-critical priority. The
 * eviction manager never evicts them; LimitedSwap never gives them swap.
 */
export function isCriticalPod(pod: Pod): boolean {
  return isStaticPod(pod) || isMirrorPod(pod) || (pod.spec.priority ?? 0) >= systemCriticalPriority;
}
