import type { Pod } from './pod-types';

/** namespace/name, as the kubelet's log lines name a pod (upstream klog.KObj). */
export function podName(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}
