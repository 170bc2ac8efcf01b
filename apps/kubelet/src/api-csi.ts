import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequest, type CoreV1Requests } from '@nodeagent/informer';
import {
  apiCsiNodeInfo,
  apiCsiStorageObjects,
  type ClaimObject,
  type ClaimStatusWriter,
  type CsiNodeInfo,
  type CsiNodeInitializer,
  type CsiStorageObjects,
} from '@nodeagent/kubelet/volumes';

const seg = encodeURIComponent;

/**
 * The kubelet's CSI seam over the API server (KubeletApi.csi): the node's CSINode and topology
 * labels (storage.k8s.io/v1 csinodes, core/v1 nodes) and the claims, PersistentVolumes and
 * CSIDrivers its pods' CSI volumes read, each one plain request through the kubeconfig's client.
 */
export function apiCsi(
  kubeConfig: KubeConfig,
  nodeName: string,
  core: Pick<CoreV1Requests, 'readNode' | 'patchNode'>,
  recordClaimEvent?: ClaimStatusWriter['recordClaimEvent'],
): {
  nodeInfo: CsiNodeInfo & CsiNodeInitializer;
  objects: CsiStorageObjects;
  claimStatus: ClaimStatusWriter;
} {
  const get = (path: string) => apiRequest<unknown>(kubeConfig, { method: 'GET', path });
  const csiNodes = '/apis/storage.k8s.io/v1/csinodes';
  return {
    nodeInfo: apiCsiNodeInfo(nodeName, core, {
      readCSINode: ({ name, resourceVersion }) =>
        get(`${csiNodes}/${seg(name)}${resourceVersion ? `?resourceVersion=${seg(resourceVersion)}` : ''}`),
      createCSINode: ({ body }) => apiRequest(kubeConfig, { method: 'POST', path: csiNodes, body }),
      replaceCSINode: ({ name, body }) =>
        apiRequest(kubeConfig, { method: 'PUT', path: `${csiNodes}/${seg(name)}`, body }),
    }),
    objects: apiCsiStorageObjects(
      {
        readNamespacedPersistentVolumeClaim: ({ name, namespace }) =>
          get(`/api/v1/namespaces/${seg(namespace)}/persistentvolumeclaims/${seg(name)}`),
        readPersistentVolume: ({ name }) => get(`/api/v1/persistentvolumes/${seg(name)}`),
        readNamespacedSecret: ({ name, namespace }) =>
          get(`/api/v1/namespaces/${seg(namespace)}/secrets/${seg(name)}`),
        readNode: ({ name }) => core.readNode({ name }),
      },
      {
        readCSIDriver: ({ name }) => get(`/apis/storage.k8s.io/v1/csidrivers/${seg(name)}`),
        readVolumeAttachment: ({ name }) => get(`/apis/storage.k8s.io/v1/volumeattachments/${seg(name)}`),
      },
    ),
    claimStatus: {
      ...(recordClaimEvent ? { recordClaimEvent } : {}),
      // Online expansion's status updates (persistentvolumeclaims/status, a JSON merge patch).
      patchClaimStatus: (namespace, name, status) =>
        apiRequest<ClaimObject>(kubeConfig, {
          method: 'PATCH',
          path: `/api/v1/namespaces/${seg(namespace)}/persistentvolumeclaims/${seg(name)}/status`,
          body: { status },
          contentType: 'application/merge-patch+json',
        }),
    },
  };
}
