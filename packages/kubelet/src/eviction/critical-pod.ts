import type { Pod } from '../api/pod-types';

// One definition for the eviction manager and the container swap settings (cri/critical-pod.ts).
export { isCriticalPod, systemCriticalPriority } from '../cri/critical-pod';

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
