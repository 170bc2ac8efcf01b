import type { Pod } from '../api/pod-types';
import { type PodStatsLookup, podRequest, podUsage } from './pod-usage';
import type { StarvedResource } from './signal-resources';

/** What the comparisons look at, computed once per pod instead of once per comparison. */
interface RankKey {
  pod: Pod;
  hasStats: boolean;
  exceedsRequest: boolean;
  priority: number;
  /** Usage minus request (memory, disk) or the process count (pids). */
  amount: number;
}

type Compare = (a: RankKey, b: RankKey) => number;

/** true before false (upstream cmpBool). */
function trueFirst(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? -1 : 1;
}

/** Pods without stats come first (upstream: evict what cannot be measured). */
const missingStatsFirst: Compare = (a, b) => trueFirst(!a.hasStats, !b.hasStats);
/** Upstream priority: lower spec.priority is evicted first. */
const lowerPriorityFirst: Compare = (a, b) => a.priority - b.priority;
const exceedingRequestFirst: Compare = (a, b) => trueFirst(a.exceedsRequest, b.exceedsRequest);
const largerAmountFirst: Compare = (a, b) => b.amount - a.amount;

function orderedBy(...compares: Compare[]): Compare {
  return (a, b) => {
    for (const compare of compares) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}

function rankKey(pod: Pod, resource: StarvedResource, stats: PodStatsLookup): RankKey {
  const podStats = stats(pod);
  const priority = pod.spec.priority ?? 0;
  if (!podStats) return { pod, hasStats: false, exceedsRequest: false, priority, amount: 0 };
  const usage = podUsage(podStats, resource);
  const request = podRequest(pod, resource);
  return {
    pod,
    hasStats: true,
    exceedsRequest: usage > request,
    priority,
    amount: resource === 'pids' ? usage : usage - request,
  };
}

/**
 * Upstream rankMemoryPressure / rankDiskPressureFunc / rankPIDPressure: the order in which pods
 * are evicted for a starved resource. Memory and disk: pods using more than they requested,
 * then lower priority, then the larger consumer above its request. Pids: lower priority, then
 * more processes. Pods without stats always come first. Returns a new array; the input is not
 * reordered.
 */
export function rankPodsForEviction(
  pods: readonly Pod[],
  resource: StarvedResource,
  stats: PodStatsLookup,
): Pod[] {
  const compare =
    resource === 'pids'
      ? orderedBy(missingStatsFirst, lowerPriorityFirst, largerAmountFirst)
      : orderedBy(missingStatsFirst, exceedingRequestFirst, lowerPriorityFirst, largerAmountFirst);
  return pods
    .map((pod) => rankKey(pod, resource, stats))
    .sort(compare)
    .map((key) => key.pod);
}
