import type { Pod } from '../api/pod-types';
import { configMirrorAnnotation, configSourceAnnotation } from '../cri/labels';

/** Upstream scheduling.SystemCriticalPriority: priorities at or above it mark system-critical pods. */
export const systemCriticalPriority = 2_000_000_000;

/**
 * Upstream IsCriticalPod: static pods, mirror pods and pods with a system-critical priority.
 * The eviction manager never evicts them and always admits them.
 */
export function isCriticalPod(pod: Pod): boolean {
  const annotations = pod.metadata.annotations ?? {};
  const source = annotations[configSourceAnnotation];
  if (source !== undefined && source !== 'api') return true;
  if (annotations[configMirrorAnnotation] !== undefined) return true;
  return (pod.spec.priority ?? 0) >= systemCriticalPriority;
}

interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}

/** Upstream TolerationsTolerateTaint for a value-less taint such as node.kubernetes.io/memory-pressure:NoSchedule. */
export function toleratesTaint(pod: Pod, key: string, effect: string): boolean {
  const tolerations = (pod.spec as { tolerations?: Toleration[] }).tolerations ?? [];
  return tolerations.some((t) => {
    if (t.effect && t.effect !== effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === key;
    return t.key === key && (t.value ?? '') === '';
  });
}
