import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { isStaticPod } from '../api/config-source';
import { httpStatusCode } from '../api/http-status-code';
import type { Pod, PodStatus } from '../api/pod-types';
import { MirrorPodMissingError } from './mirror-pod-missing';
import type { PodStatusWriter } from './status-manager';

/**
 * Writes pod status through pods/status merge patches with a uid precondition (a recreated pod
 * with the same name is left alone), and deletes finished pods with grace period 0. Static pods
 * report through their mirror pod.
 */
export function apiPodStatusWriter(
  core: Pick<CoreV1Requests, 'patchNamespacedPodStatus' | 'deleteNamespacedPod'>,
): PodStatusWriter {
  return {
    async patchStatus(pod: Pod, status: PodStatus) {
      const name = pod.metadata.name ?? '';
      const namespace = pod.metadata.namespace ?? 'default';
      const metadata = isStaticPod(pod) ? {} : { uid: pod.metadata.uid };
      try {
        await core.patchNamespacedPodStatus(
          { name, namespace, body: { metadata, status } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (error) {
        // A static pod's mirror may not exist yet: the status stays unwritten and goes out at a
        // sync after the mirror pod was created.
        if (isStaticPod(pod) && httpStatusCode(error) === 404)
          throw new MirrorPodMissingError(
            'pod',
            `${namespace}/${name}`,
            'static pod does not have a corresponding mirror pod; status not written',
          );
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
