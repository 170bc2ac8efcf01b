import type { Pod } from '../api/pod-types';
import { configMirrorAnnotation, configSourceAnnotation } from './labels';

/** Upstream scheduling.SystemCriticalPriority: priorities at or above it mark system-critical pods. */
export const systemCriticalPriority = 2_000_000_000;

/**
 * Upstream IsCriticalPod: static pods, mirror pods and pods with a system-critical priority. The
 * eviction manager never evicts them; LimitedSwap never gives them swap.
 */
export function isCriticalPod(pod: Pod): boolean {
  const annotations = pod.metadata.annotations ?? {};
  const source = annotations[configSourceAnnotation];
  if (source !== undefined && source !== 'api') return true;
  if (annotations[configMirrorAnnotation] !== undefined) return true;
  return (pod.spec.priority ?? 0) >= systemCriticalPriority;
}
