import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import { KubeListerWatcher } from '@nodeagent/informer';
import type { Wire } from '@nodeagent/primitives';

/**
 * A one-shot reader of this node's Node object (undefined while it does not exist), for the
 * start-up waits. It lists with a metadata.name field selector through the informer's
 * KubeConfig-backed HTTP client, so the daemon needs none of client-node's typed API classes.
 */
export function nodeReader(
  kubeConfig: KubeConfig,
  nodeName: string,
): () => Promise<Wire<V1Node> | undefined> {
  const lw = new KubeListerWatcher<Wire<V1Node>>(kubeConfig, { apiVersion: 'v1', plural: 'nodes' });
  return async () => {
    const page = await lw.list({ fieldSelector: `metadata.name=${nodeName}` }, AbortSignal.timeout(10_000));
    return page.items[0];
  };
}
