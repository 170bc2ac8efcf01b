import { podRequestForEviction } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import type { PodStats } from '../stats/summary-types';
import type { StarvedResource } from './signal-resources';

/** Finds a pod's stats in the summary; missing stats rank a pod first, as upstream. */
export type PodStatsLookup = (pod: Pod) => PodStats | undefined;

export function podStatsLookup(pods: readonly PodStats[]): PodStatsLookup {
  const byUid = new Map(pods.map((stats) => [stats.podRef.uid, stats]));
  return (pod) => byUid.get(pod.metadata.uid ?? '');
}

/**
 * Upstream GetResourceRequestQuantity (api/pod-requests.ts). Only memory and ephemeral-storage
 * have requests; inodes and pids never do.
 */
export function podRequest(pod: Pod, resource: StarvedResource): number {
  if (resource !== 'memory' && resource !== 'ephemeral-storage') return 0;
  return podRequestForEviction(pod, resource);
}

/** Pod memory usage: its containers' working sets (upstream podMemoryUsage). */
export function podMemoryUsage(stats: PodStats): number {
  let sum = 0;
  for (const container of stats.containers) sum += container.memory?.workingSetBytes ?? 0;
  if (stats.containers.length === 0) return stats.memory?.workingSetBytes ?? 0;
  return sum;
}

/** Pod local storage: the pod's ephemeral-storage figure, else rootfs + logs of its containers. */
export function podDiskUsage(stats: PodStats, resource: 'ephemeral-storage' | 'inodes'): number {
  const whole = stats['ephemeral-storage'];
  if (whole) return (resource === 'inodes' ? whole.inodesUsed : whole.usedBytes) ?? 0;
  let sum = 0;
  for (const container of stats.containers) {
    for (const fs of [container.rootfs, container.logs])
      sum += (resource === 'inodes' ? fs?.inodesUsed : fs?.usedBytes) ?? 0;
  }
  return sum;
}

export function podProcessCount(stats: PodStats): number {
  return stats.process_stats?.process_count ?? 0;
}

/** The usage eviction compares against requests for a starved resource. */
export function podUsage(stats: PodStats, resource: StarvedResource): number {
  switch (resource) {
    case 'memory':
      return podMemoryUsage(stats);
    case 'pids':
      return podProcessCount(stats);
    default:
      return podDiskUsage(stats, resource);
  }
}
