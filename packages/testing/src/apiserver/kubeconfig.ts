import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

const CONTEXT = 'nodeagent-test';

/**
 * kubeconfig YAML for the loopback server; the fake server accepts any credentials. With a CA
 * (HTTPS) clients verify the server; for plain HTTP client-node insists on skipTLSVerify.
 */
export function kubeconfigYaml(url: string, caPem?: string, token = 'nodeagent-test-token'): string {
  const cluster = caPem
    ? { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') }
    : { server: url, 'insecure-skip-tls-verify': true };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster }],
    users: [{ name: CONTEXT, user: { token } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace: 'default' } }],
    'current-context': CONTEXT,
  });
}

export function kubeConfigFor(url: string, caPem?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(url, caPem));
  return kc;
}

export function writeKubeconfigFile(url: string, path: string, caPem?: string, token?: string): void {
  writeFileSync(path, kubeconfigYaml(url, caPem, token), { mode: 0o600 });
}
