import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { isStaticPod } from '../api/config-source';
import { httpStatusCode } from '../api/http-status-code';
import { podName } from '../api/pod-name';
import type { Pod, PodStatus } from '../api/pod-types';
import { isMirrorPodOf } from '../pod/mirror-pod';
import { MirrorPodMissingError } from './mirror-pod-missing';
import type { PodStatusWriter } from './status-manager';

/**
 * Writes pod status through pods/status merge patches with a uid precondition (a recreated pod
 * with the same name is left alone), and deletes finished pods with grace period 0. Static pods
 * report through their mirror pod: as upstream's status manager, the writer reads the pod of
 * that name from the API and patches it, with its uid as the precondition, only when it is this
 * static pod's mirror pod (see isMirrorPodOf); a missing or different pod leaves the status
 * unwritten until a later sync.
 */
export function apiPodStatusWriter(
  core: Pick<CoreV1Requests, 'patchNamespacedPodStatus' | 'deleteNamespacedPod' | 'readNamespacedPod'>,
): PodStatusWriter {
  return {
    async patchStatus(pod: Pod, status: PodStatus) {
      const name = pod.metadata.name ?? '';
      const namespace = pod.metadata.namespace ?? 'default';
      const uid = isStaticPod(pod) ? await mirrorPodUid(core, pod) : pod.metadata.uid;
      try {
        await core.patchNamespacedPodStatus(
          { name, namespace, body: { metadata: { uid }, status } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (error) {
        // The mirror pod was deleted since it was read: as when it is missing.
        if (isStaticPod(pod) && httpStatusCode(error) === 404) throw mirrorPodMissing(pod);
        throw error;
      }
    },
    async deletePod(pod: Pod) {
      try {
        await core.deleteNamespacedPod({
          name: pod.metadata.name ?? '',
          namespace: pod.metadata.namespace ?? 'default',
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } },
        });
      } catch (error) {
        if (httpStatusCode(error) !== 404 && httpStatusCode(error) !== 409) throw error;
      }
    },
  };
}

/** The uid of `staticPod`'s mirror pod as the API holds it now; MirrorPodMissingError when there is none. */
async function mirrorPodUid(
  core: Pick<CoreV1Requests, 'readNamespacedPod'>,
  staticPod: Pod,
): Promise<string> {
  let current: Pod;
  try {
    current = (await core.readNamespacedPod({
      name: staticPod.metadata.name ?? '',
      namespace: staticPod.metadata.namespace ?? 'default',
    })) as Pod;
  } catch (error) {
    if (httpStatusCode(error) === 404) throw mirrorPodMissing(staticPod);
    throw error;
  }
  // Another pod of that name (a user's, the mirror of an older manifest, one being deleted):
  // not this static pod's to write; the kubelet replaces it (syncMirrorPods).
  const uid = current.metadata.uid;
  if (!uid || !isMirrorPodOf(current, staticPod)) throw mirrorPodMissing(staticPod);
  return uid;
}

function mirrorPodMissing(staticPod: Pod): MirrorPodMissingError {
  return new MirrorPodMissingError(
    'pod',
    podName(staticPod),
    'static pod does not have a corresponding mirror pod; status not written',
  );
}
