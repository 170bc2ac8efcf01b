import type { CoreV1Requests } from '@nodeagent/informer';
import { configHashAnnotation, configMirrorAnnotation, isMirrorPod } from '../api/config-source';
import { httpStatusCode } from '../api/http-status-code';
import { podName } from '../api/pod-name';
import type { Pod } from '../api/pod-types';
import { isMirrorPodOf } from '../pod/mirror-pod';
import { ApiServiceAccountTokens, type ServiceAccountTokenRequests } from '../volumes/service-account-tokens';

/**
 * Service account tokens through the TokenRequest API (serviceaccounts/token), bound to the pod,
 * reused and let go as upstream's token manager does (ApiServiceAccountTokens). One for the whole
 * kubelet: projected volumes, CSI drivers and credential providers share it.
 */
export function apiTokenSource(
  core: ServiceAccountTokenRequests,
  options: { now?: () => number } = {},
): ApiServiceAccountTokens {
  return new ApiServiceAccountTokens(core, options.now);
}

/** The mirror pod the API server shows for a static pod (upstream mirror pod manager). */
export function mirrorPodFor(pod: Pod, node: { name: string; uid?: string }): Pod {
  const { uid: _uid, resourceVersion: _rv, ...metadata } = pod.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      annotations: {
        ...(metadata.annotations ?? {}),
        [configMirrorAnnotation]: pod.metadata.annotations?.[configHashAnnotation] ?? '',
      },
      ownerReferences: node.uid
        ? [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }]
        : undefined,
    },
    spec: pod.spec,
  };
}

/**
 * Creates mirror pods for static pods that have none (or whose hash changed), deletes orphans.
 * Returns the static pods whose mirror pod was created.
 */
export async function syncMirrorPods(
  core: Pick<CoreV1Requests, 'listPodForAllNamespaces' | 'deleteNamespacedPod' | 'createNamespacedPod'>,
  staticPods: Pod[],
  nodeName: string,
  nodeUid?: string,
): Promise<Pod[]> {
  const created: Pod[] = [];
  const existing = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
  const mirrors = new Map(
    (existing.items as unknown as Pod[]).filter(isMirrorPod).map((p) => [podName(p), p]),
  );
  for (const pod of staticPods) {
    const key = podName(pod);
    const mirror = mirrors.get(key);
    mirrors.delete(key);
    if (mirror && isMirrorPodOf(mirror, pod)) continue;
    if (mirror) {
      await core
        .deleteNamespacedPod({
          name: mirror.metadata.name!,
          namespace: mirror.metadata.namespace!,
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined);
    }
    await core
      .createNamespacedPod({
        namespace: pod.metadata.namespace ?? 'default',
        body: mirrorPodFor(pod, { name: nodeName, uid: nodeUid }) as never,
      })
      .catch((error) => {
        if (httpStatusCode(error) !== 409) throw error;
      });
    created.push(pod);
  }
  for (const orphan of mirrors.values()) {
    await core
      .deleteNamespacedPod({
        name: orphan.metadata.name!,
        namespace: orphan.metadata.namespace!,
        gracePeriodSeconds: 0,
      })
      .catch(() => undefined);
  }
  return created;
}
