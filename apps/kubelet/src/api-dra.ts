import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequest, type CoreV1Requests } from '@nodeagent/informer';
import type { KubeletOptions } from '@nodeagent/kubelet';

const seg = encodeURIComponent;

/** What the DRA manager reads and deletes through the API server (KubeletApi.dra). */
type DraApi = NonNullable<NonNullable<KubeletOptions['api']>['dra']>;

/**
 * The kubelet's DRA seam over the API server: ResourceClaims read one GET each
 * (resource.k8s.io/v1), this node's ResourceSlices deleted by field selector once the Node
 * exists; drivers are called over gRPC (the default connector).
 */
export function apiDra(
  kubeConfig: KubeConfig,
  nodeName: string,
  core: Pick<CoreV1Requests, 'readNode'>,
): DraApi {
  return {
    claims: {
      getResourceClaim: (namespace, name) =>
        apiRequest(kubeConfig, {
          method: 'GET',
          path: `/apis/resource.k8s.io/v1/namespaces/${seg(namespace)}/resourceclaims/${seg(name)}`,
        }),
    },
    slices: {
      async deleteResourceSlices(fieldSelector) {
        await apiRequest(kubeConfig, {
          method: 'DELETE',
          path: '/apis/resource.k8s.io/v1/resourceslices',
          query: { fieldSelector },
        });
      },
      async nodeExists() {
        try {
          await core.readNode({ name: nodeName });
          return true;
        } catch (error) {
          if ((error as { code?: unknown }).code === 404) return false;
          throw error;
        }
      },
    },
  };
}
