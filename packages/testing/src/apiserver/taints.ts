/**
 * Taints and tolerations (the shapes and ToleratesTaint/FindMatchingUntoleratedTaint are
 * @nodeagent/primitives'), with what the scheduler and the taint eviction controller add.
 */
import { type Taint, type Toleration, toleratesTaint } from '@nodeagent/primitives/scheduling';
import type { KubeObject } from './kube-object';

export {
  findUntoleratedTaint,
  type Taint,
  type Toleration,
  toleratesTaint,
} from '@nodeagent/primitives/scheduling';

/** The taint of a node whose Ready condition is False. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
/** The taint of a node whose Ready condition is Unknown. */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** The taint of a cordoned node. */
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/**
 * For NoExecute taints: whether every taint is tolerated, and the least tolerationSeconds of the
 * tolerations used (undefined = tolerated forever; <= 0 means evict now, as upstream).
 */
export function minTolerationSeconds(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): { allTolerated: boolean; seconds: number | undefined } {
  let seconds: number | undefined;
  for (const taint of taints) {
    // Upstream's GetMatchingTolerations uses the first toleration that matches each taint.
    const used = tolerations.find((t) => toleratesTaint(t, taint));
    if (!used) return { allTolerated: false, seconds: 0 };
    if (used.tolerationSeconds === undefined || used.tolerationSeconds === null) continue;
    const s = Math.max(0, used.tolerationSeconds);
    seconds = seconds === undefined ? s : Math.min(seconds, s);
  }
  return { allTolerated: true, seconds };
}

export function taintsOf(node: KubeObject | undefined): Taint[] {
  return ((node?.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[];
}

export function tolerationsOf(pod: KubeObject): Toleration[] {
  return ((pod.spec as { tolerations?: Toleration[] } | undefined)?.tolerations ?? []) as Toleration[];
}
