import type { ProxySnapshot } from '../model/proxy-snapshot';

/**
 * Upstream's largeClusterEndpointsThreshold: above this many endpoints (summed over every
 * service port, ready or not) the iptables proxier switches to "large cluster mode" and
 * trades debuggability for speed.
 */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/**
 * Whether a sync of `snapshot` runs in large cluster mode. In it the per-endpoint rules (the
 * KUBE-SVC/KUBE-SVL → KUBE-SEP jumps and the KUBE-SEP chains' own rules) carry no
 * `-m comment`, which upstream says shrinks the payload by 40% and more. Counted every sync,
 * like upstream (a loop over service ports, not endpoints).
 */
export function isLargeClusterMode(
  snapshot: Pick<ProxySnapshot, 'services' | 'endpoints'>,
  threshold = LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
): boolean {
  let total = 0;
  for (const key of snapshot.services.keys()) total += snapshot.endpoints.get(key)?.length ?? 0;
  return total > threshold;
}
