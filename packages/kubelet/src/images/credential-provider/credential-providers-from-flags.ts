import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequest } from '@nodeagent/informer';
import { ImageCredentialProviders, type ImageCredentialProvidersOptions } from './image-credential-providers';
import type { ServiceAccountGetter } from './plugin-provider';

/**
 * Upstream NewKubeGenericRuntimeManager: without --image-credential-provider-config and
 * --image-credential-provider-bin-dir the kubelet runs no plugins; with either one both must be
 * usable, and anything wrong stops the kubelet (the error names the flag and path).
 */
export async function imageCredentialProvidersFromFlags(
  flags: { configPath?: string; binDir?: string },
  options: Omit<ImageCredentialProvidersOptions, 'configPath' | 'binDir'> = {},
): Promise<ImageCredentialProviders | undefined> {
  const configPath = flags.configPath ?? '';
  const binDir = flags.binDir ?? '';
  if (configPath === '' && binDir === '') return undefined;
  return ImageCredentialProviders.load({ ...options, configPath, binDir });
}

/** Token mode's ServiceAccount reads (UID and annotations), straight from the API server. */
export function apiServiceAccountGetter(kubeConfig: KubeConfig): ServiceAccountGetter {
  return async (namespace, name) => {
    const account = await apiRequest<{ metadata?: { uid?: string; annotations?: Record<string, string> } }>(
      kubeConfig,
      {
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`,
      },
    );
    return { uid: account.metadata?.uid ?? '', annotations: account.metadata?.annotations ?? {} };
  };
}
