import type { KubeConfig } from '@kubernetes/client-node';
import { ApiRequestError, apiRequest } from '@nodeagent/informer';

/**
 * A RuntimeClass (node.k8s.io/v1) read from the API server for the runtime handler lookup, as
 * upstream's runtimeclass manager reads it; a class that does not exist is undefined (the lookup
 * then fails the sandbox with upstream's NotFound text and the pod is retried).
 */
export function apiRuntimeClassGetter(
  kubeConfig: KubeConfig,
): (name: string) => Promise<{ handler: string } | undefined> {
  return async (name) => {
    try {
      return await apiRequest<{ handler: string }>(kubeConfig, {
        method: 'GET',
        path: `/apis/node.k8s.io/v1/runtimeclasses/${encodeURIComponent(name)}`,
      });
    } catch (error) {
      if (error instanceof ApiRequestError && error.code === 404) return undefined;
      throw error;
    }
  };
}
