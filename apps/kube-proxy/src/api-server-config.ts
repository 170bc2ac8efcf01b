import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeProxyError } from '@nodeagent/kube-proxy';
import { readableFile } from './readable-file';

/** Where rest.InClusterConfig reads the service account's token. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Neither --kubeconfig nor --master, and no in-cluster configuration: nothing to talk to. */
export class NoApiServerError extends KubeProxyError {
  constructor(reason: string) {
    super(
      'NO_API_SERVER',
      `neither --kubeconfig nor --master was given, and the in-cluster configuration is unusable: ${reason}`,
    );
  }
}

/** A kubeconfig file that is not a usable kubeconfig. */
export class InvalidKubeconfigError extends KubeProxyError {
  constructor(path: string, reason: string) {
    super(
      'INVALID_KUBECONFIG',
      `--kubeconfig: ${JSON.stringify(path)} is not a usable kubeconfig: ${reason}`,
    );
  }
}

export interface ApiServerSource {
  /** clientConnection.kubeconfig / --kubeconfig. */
  kubeconfigPath: string;
  /** --master. */
  master?: string;
  env?: NodeJS.ProcessEnv;
  fileExists?: (path: string) => boolean;
  /** Checks the kubeconfig is readable (tests make it fail). */
  readFile?: (path: string) => string;
}

/**
 * The API server and credentials, chosen as upstream's createClient does: with neither a
 * kubeconfig nor --master the in-cluster configuration (the service account's environment and
 * token), failing at once in one line when there is none; with --master alone that URL and no
 * credentials; otherwise the kubeconfig, its server replaced by --master when given. The user's
 * ~/.kube/config is never read, as upstream does not.
 */
export function apiServerConfig(s: ApiServerSource): { kubeConfig: KubeConfig; inCluster: boolean } {
  const env = s.env ?? process.env;
  const kc = new KubeConfig();
  if (!s.kubeconfigPath && !s.master) {
    if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) {
      throw new NoApiServerError(
        'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
      );
    }
    if (!(s.fileExists ?? existsSync)(SERVICE_ACCOUNT_TOKEN)) {
      throw new NoApiServerError(`open ${SERVICE_ACCOUNT_TOKEN}: no such file or directory`);
    }
    kc.loadFromCluster();
    return { kubeConfig: kc, inCluster: true };
  }
  if (!s.kubeconfigPath) {
    kc.loadFromClusterAndUser(
      { name: 'master', server: s.master!, skipTLSVerify: false },
      { name: 'master' },
    );
    return { kubeConfig: kc, inCluster: false };
  }
  // Read first for one clear line when it cannot be; loadFromFile then resolves relative paths.
  readableFile('--kubeconfig', s.kubeconfigPath, s.readFile ?? ((p) => readFileSync(p, 'utf8')));
  try {
    kc.loadFromFile(s.kubeconfigPath);
  } catch (err) {
    throw new InvalidKubeconfigError(s.kubeconfigPath, String((err as Error).message).split('\n')[0]!);
  }
  if (!kc.getCurrentCluster())
    throw new InvalidKubeconfigError(s.kubeconfigPath, 'it has no current cluster');
  if (s.master) {
    const name = kc.getCurrentCluster()!.name;
    kc.clusters = kc.clusters.map((c) => (c.name === name ? { ...c, server: s.master! } : c));
  }
  return { kubeConfig: kc, inCluster: false };
}
