import type { KubeConfig } from '@kubernetes/client-node';
import { KubeListerWatcher } from '../src/index';

/** A watch of namespaces from `resourceVersion` that the server ends after `timeoutSeconds`. */
export const watchOptions = (resourceVersion: string, timeoutSeconds: number) => ({
  resourceVersion,
  timeoutSeconds,
  allowWatchBookmarks: false,
  inactivityTimeoutMs: 60_000,
});

/** Namespaces as a lister-watcher over `kubeConfig`. */
export const namespaces = (kubeConfig: KubeConfig) =>
  new KubeListerWatcher(kubeConfig, { apiVersion: 'v1', plural: 'namespaces' });

/** A list, then three watches from it, each ended by the server after 1 s. */
export async function listAndRenewThrice(kubeConfig: KubeConfig): Promise<void> {
  const lw = namespaces(kubeConfig);
  const never = new AbortController().signal;
  const page = await lw.list({}, never);
  for (let i = 0; i < 3; i++) await lw.watch(watchOptions(page.resourceVersion, 1), () => {}, never);
}
