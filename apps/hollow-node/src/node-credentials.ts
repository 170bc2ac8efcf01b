import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { loadClientCert } from '@nodeagent/kubelet/certificates';
import type { HollowLogger } from './hollow-logger';

/** The credentials one node talks to the API server with (read again at each start of its agents). */
export type NodeCredentials = (nodeName: string) => Promise<KubeConfig>;

/** Every node uses the kubeconfig's own credentials (the API server sees one user). */
export function sharedCredentials(kubeConfig: KubeConfig): NodeCredentials {
  return async () => kubeConfig;
}

/**
 * The kubeconfig with its user's client certificate and key inline: what the bootstrapped
 * kubeconfig's files hold, read once, instead of client-node reading both files again at every
 * request (a thousand nodes' Lease renewals and status writes).
 */
async function inlineClientCertificate(kubeconfigPath: string): Promise<KubeConfig> {
  const written = new KubeConfig();
  written.loadFromFile(kubeconfigPath);
  const user = written.getCurrentUser();
  const read = async (path: string | undefined) =>
    path ? (await readFile(path)).toString('base64') : undefined;
  const certData = await read(user?.certFile);
  const keyData = await read(user?.keyFile);
  const inline = new KubeConfig();
  inline.loadFromOptions({
    clusters: written.clusters,
    contexts: written.contexts,
    currentContext: written.currentContext,
    users: written.users.map((u) => (u.name === user?.name ? { name: u.name, certData, keyData } : u)),
  });
  return inline;
}

/**
 * Each node's own client certificate, obtained as the kubelet's TLS bootstrap does
 * (@nodeagent/kubelet's loadClientCert, upstream's bootstrap.LoadClientCert): a CSR for CN
 * system:node:<name>, O system:nodes to kubernetes.io/kube-apiserver-client-kubelet, sent with
 * `bootstrap`'s credentials (a bootstrap token, say), the signed certificate stored under the
 * node's own cert dir, and the node's kubeconfig written pointing at it. A node whose kubeconfig
 * is still valid (a restart) reuses it without a new CSR, as the kubelet does. The API server's
 * Node authorizer then sees N distinct nodes.
 */
export function bootstrappedCredentials(
  bootstrap: KubeConfig,
  runDir: string,
  logger: (nodeName: string) => HollowLogger,
): NodeCredentials {
  const bootstrapKubeconfigPath = join(runDir, 'bootstrap-kubeconfig');
  let written: Promise<void> | undefined;
  return async (nodeName) => {
    written ??= writeFile(bootstrapKubeconfigPath, bootstrap.exportConfig(), { mode: 0o600 });
    await written;
    const nodeDir = join(runDir, 'credentials', nodeName);
    await mkdir(nodeDir, { recursive: true, mode: 0o700 });
    const kubeconfigPath = join(nodeDir, 'kubeconfig');
    await loadClientCert({
      kubeconfigPath,
      bootstrapKubeconfigPath,
      certDir: join(nodeDir, 'pki'),
      nodeName,
      logger: logger(nodeName),
    });
    return inlineClientCertificate(kubeconfigPath);
  };
}
