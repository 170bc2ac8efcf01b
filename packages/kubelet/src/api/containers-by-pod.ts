import type { Pod } from './pod-types';

/**
 * The names of each pod's init and app containers, by pod UID: what upstream's resource
 * managers' removeStaleState keeps assignments for (anything else belongs to a pod or container
 * that is gone).
 */
export function containerNamesByPod(pods: readonly Pod[]): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const pod of pods)
    names.set(
      pod.metadata.uid ?? '',
      new Set([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name)),
    );
  return names;
}
