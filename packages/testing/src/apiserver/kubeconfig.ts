import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

const CONTEXT = 'nodeagent-test';

/** kubeconfig YAML for a plain-HTTP loopback server; the fake server accepts any credentials. */
export function kubeconfigYaml(url: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      // client-node refuses http: servers unless skipTLSVerify is set.
      { name: CONTEXT, cluster: { server: url, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: CONTEXT, user: { token: 'nodeagent-test-token' } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace: 'default' } }],
    'current-context': CONTEXT,
  });
}

export function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(url));
  return kc;
}

export function writeKubeconfigFile(url: string, path: string): void {
  writeFileSync(path, kubeconfigYaml(url), { mode: 0o600 });
}
