import type { Pod } from '../api/pod-types';
import { type PodStatsLookup, podRequest, podUsage } from './pod-usage';
import type { StarvedResource } from './signal-resources';

type Compare = (a: Pod, b: Pod) => number;

/** true before false (upstream cmpBool). */
function trueFirst(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? -1 : 1;
}

/** Upstream priority: lower spec.priority is evicted first. */
export function byPriority(a: Pod, b: Pod): number {
  return (a.spec.priority ?? 0) - (b.spec.priority ?? 0);
}

/** Pods whose usage exceeds their request come first; pods without stats before everyone. */
function exceedsRequests(stats: PodStatsLookup, resource: StarvedResource): Compare {
  return (a, b) => {
    const sa = stats(a);
    const sb = stats(b);
    if (!sa || !sb) return trueFirst(!sa, !sb);
    return trueFirst(
      podUsage(sa, resource) > podRequest(a, resource),
      podUsage(sb, resource) > podRequest(b, resource),
    );
  };
}

/** Larger usage above request first. */
function usageAboveRequest(stats: PodStatsLookup, resource: StarvedResource): Compare {
  return (a, b) => {
    const sa = stats(a);
    const sb = stats(b);
    if (!sa || !sb) return trueFirst(!sa, !sb);
    return (
      podUsage(sb, resource) - podRequest(b, resource) - (podUsage(sa, resource) - podRequest(a, resource))
    );
  };
}

/** More processes first. */
function processCount(stats: PodStatsLookup): Compare {
  return (a, b) => {
    const sa = stats(a);
    const sb = stats(b);
    if (!sa || !sb) return trueFirst(!sa, !sb);
    return podUsage(sb, 'pids') - podUsage(sa, 'pids');
  };
}

function orderedBy(...compares: Compare[]): Compare {
  return (a, b) => {
    for (const compare of compares) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}

/**
 * Upstream rankMemoryPressure / rankDiskPressureFunc / rankPIDPressure: the order in which pods
 * are evicted for a starved resource. Memory and disk: pods using more than they requested,
 * then lower priority, then the larger consumer above its request. Pids: lower priority, then
 * more processes. Returns a new array; the input is not reordered.
 */
export function rankPodsForEviction(
  pods: readonly Pod[],
  resource: StarvedResource,
  stats: PodStatsLookup,
): Pod[] {
  const compare =
    resource === 'pids'
      ? orderedBy(byPriority, processCount(stats))
      : orderedBy(exceedsRequests(stats, resource), byPriority, usageAboveRequest(stats, resource));
  return [...pods].sort(compare);
}
