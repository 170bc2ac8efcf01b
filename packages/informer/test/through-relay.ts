import { KubeConfig } from '@kubernetes/client-node';
import type { ApiServer } from '@nodeagent/testing';

/** `api`'s kubeconfig with its server's address replaced by the relay's port. */
export function throughRelay(api: ApiServer, port: number): KubeConfig {
  const kc = new KubeConfig();
  const source = api.kubeConfig();
  kc.loadFromOptions({
    clusters: source.getClusters().map((c) => ({ ...c, server: c.server.replace(/:\d+$/, `:${port}`) })),
    users: source.getUsers(),
    contexts: source.getContexts(),
    currentContext: source.getCurrentContext(),
  });
  return kc;
}
