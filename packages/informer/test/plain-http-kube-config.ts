import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

/** A KubeConfig for a plain-HTTP test server listening on 127.0.0.1, with no credentials. */
export function plainHttpKubeConfig(server: Server): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeConfig;
}
