import { hasPodLevelResources } from '../api/pod-level-resources';
import { admitted, type PodAdmitHandler } from './admit-handler';

/** Upstream PodLevelResourcesNotAdmittedReason: the reason a pod with `spec.resources` is refused with. */
export const podLevelResourcesNotSupportedReason = 'PodLevelResourcesNotSupported';

/**
 * Ours: upstream v1.36.3 admits such a pod with cgroupsPerQOS: false and then panics on its first
 * sync (no pod cgroup config to size); this kubelet refuses it at admission and says why.
 */
export const noPodCgroupPodLevelResourcesMessage =
  'Pod-level resources (spec.resources) need pod cgroups: this kubelet runs with cgroupsPerQOS: false, so it cannot size the pod';

/**
 * Refuses pods with pod-level resources (upstream IsPodLevelResourcesSet) when the kubelet keeps no
 * pod cgroups (cgroupsPerQOS: false): nothing could hold the pod to its pod-level limits. The pod
 * fails with reason PodLevelResourcesNotSupported (upstream's reason for a kubelet that cannot
 * honour them) and a message naming the setting, instead of running unbounded.
 */
export function podLevelResourcesAdmitHandler(podCgroups: boolean): PodAdmitHandler {
  return {
    admit: ({ pod }) =>
      podCgroups || !hasPodLevelResources(pod)
        ? admitted
        : {
            admit: false,
            reason: podLevelResourcesNotSupportedReason,
            message: noPodCgroupPodLevelResourcesMessage,
          },
  };
}
