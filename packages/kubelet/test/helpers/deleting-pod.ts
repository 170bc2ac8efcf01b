import type { Pod } from '../../src/api/pod-types';

/**
 * `pod` as the API server's deletion of it reaches the kubelet: stamped now, with
 * `gracePeriodSeconds` (1 unless given) to terminate in.
 */
export function deleting(pod: Pod, gracePeriodSeconds = 1): Pod {
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      deletionTimestamp: new Date().toISOString(),
      deletionGracePeriodSeconds: gracePeriodSeconds,
    },
  };
}
