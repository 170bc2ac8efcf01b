import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { certificatesV1Requests } from '@nodeagent/informer';
import { closeAllConnections } from '@nodeagent/informer/connections';
import type { KubeletLogger } from '@nodeagent/kubelet';
import {
  CertificateFileStore,
  CertificateManager,
  type CertificatePair,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  loadClientCert,
  loadClientConfig,
  nodeSubject,
  serveCurrentCertificate,
  watchClientCertificateExpiry,
} from '@nodeagent/kubelet/certificates';
import type { ResolvedKubeletOptions } from './kubelet-flags';
import { StartupRefusedError } from './startup-checks';

/**
 * Before --kubeconfig is read: with --bootstrap-kubeconfig, a missing or expired --kubeconfig is
 * replaced by one pointing at the client certificate in --cert-dir (TLS bootstrapping). As
 * upstream's buildKubeletClientConfig: with rotateCertificates the certificate is requested in the
 * background by the client certificate manager (LoadClientConfig), so the kubelet starts (static
 * pods run) meanwhile; without it the CSR is sent and waited for here (LoadClientCert). Returns
 * whether --kubeconfig was replaced: only then do CSRs fall back to the bootstrap credentials.
 */
export async function bootstrapClientCertificate(
  options: ResolvedKubeletOptions,
  nodeName: string,
  logger: KubeletLogger,
): Promise<boolean> {
  const { flags, config } = options;
  if (!flags.bootstrapKubeconfig || !flags.kubeconfig) return false;
  if (config.rotateCertificates) {
    logger.info({}, 'Client rotation is on, will bootstrap in background');
    return loadClientConfig({
      kubeconfigPath: flags.kubeconfig,
      bootstrapKubeconfigPath: flags.bootstrapKubeconfig,
      certDir: flags.certDir,
      logger,
    });
  }
  return loadClientCert({
    kubeconfigPath: flags.kubeconfig,
    bootstrapKubeconfigPath: flags.bootstrapKubeconfig,
    certDir: flags.certDir,
    nodeName,
    logger,
  });
}

/** --kubeconfig read, or the kubelet refuses to start naming the file (no stack trace). */
export function loadKubeconfig(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(path);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `stat ${path}: no such file or directory`
        : (error as Error).message;
    throw new StartupRefusedError('kubeconfig', path, `invalid kubeconfig: ${reason}`);
  }
  return kubeConfig;
}

/** The client certificate and key a kubeconfig's user carries inline (kubeadm's kubelet.conf). */
function embeddedClientCertificate(kubeConfig: KubeConfig): { certPem: string; keyPem: string } | undefined {
  const user = kubeConfig.getCurrentUser();
  if (!user?.certData || !user.keyData) return undefined;
  return {
    certPem: Buffer.from(user.certData, 'base64').toString(),
    keyPem: Buffer.from(user.keyData, 'base64').toString(),
  };
}

export interface KubeletCertificates {
  /**
   * Resolves once the client certificate the kubeconfig names exists: at once, unless
   * rotateCertificates is bootstrapping it in the background (then when it is issued).
   */
  clientCertificate: Promise<void>;
  /** The serving certificate manager when serverTLSBootstrap is on. */
  serving?: CertificateManager;
  /** The kubelet server's TLS material at start: the serving manager's pair, or none yet. */
  servingTls(): { cert: string; key: string } | undefined;
  /** Makes the kubelet server follow the serving manager's rotations. */
  attachServer(server: Server): void;
  stop(): void;
}

/** Points the in-memory kubeconfig's user at a pair file, for kubeconfigs that named another one. */
function useClientCertificateFile(kubeConfig: KubeConfig, path: string): void {
  const user = kubeConfig.getCurrentUser();
  if (!user || (user.certFile === path && user.keyFile === path)) return;
  kubeConfig.loadFromOptions({
    clusters: kubeConfig.clusters,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
    users: kubeConfig.users.map((u) =>
      u.name === user.name ? { name: u.name, certFile: path, keyFile: path } : u,
    ),
  });
}

/**
 * The certificate managers upstream's kubelet runs: client certificate rotation
 * (rotateCertificates) and the serving certificate from a kubernetes.io/kubelet-serving CSR
 * (serverTLSBootstrap), both under --cert-dir. Without --kubeconfig neither can work, which is
 * said once for each setting.
 */
export async function startCertificateManagers(
  options: ResolvedKubeletOptions,
  kubeConfig: KubeConfig | undefined,
  nodeName: string,
  hostIPs: string[],
  logger: KubeletLogger,
  /** Whether --kubeconfig was just written by TLS bootstrapping (bootstrapClientCertificate). */
  { bootstrapped = false }: { bootstrapped?: boolean } = {},
): Promise<KubeletCertificates> {
  const { flags, config } = options;
  const managers: CertificateManager[] = [];
  const stopWatches: (() => void)[] = [];
  for (const [setting, on] of [
    ['rotateCertificates', config.rotateCertificates],
    ['serverTLSBootstrap', config.serverTLSBootstrap],
  ] as const)
    if (on && !kubeConfig)
      logger.warn({ setting }, `${setting} needs --kubeconfig; not applied in standalone mode`);
  const api = () => certificatesV1Requests(kubeConfig as KubeConfig);
  // Without a valid client certificate, CSRs go out with the bootstrap credentials, but only when
  // --kubeconfig was not valid at start (upstream's LoadClientConfig: a valid kubeconfig, e.g.
  // kubeadm's kubelet.conf, makes the bootstrap kubeconfig unused, and it may not exist).
  const bootstrapApi =
    bootstrapped && flags.bootstrapKubeconfig
      ? () => {
          const bootstrap = new KubeConfig();
          bootstrap.loadFromFile(flags.bootstrapKubeconfig as string);
          return certificatesV1Requests(bootstrap);
        }
      : api;

  let clientCertificate = Promise.resolve();
  if (kubeConfig && config.rotateCertificates) {
    let issued = () => {};
    clientCertificate = new Promise<void>((resolve) => {
      issued = resolve;
    });
    const user = kubeConfig.getCurrentUser();
    const store = new CertificateFileStore({
      pairNamePrefix: 'kubelet-client',
      certDirectory: flags.certDir,
      certFile: user?.certFile,
      keyFile: user?.keyFile,
    });
    const client = new CertificateManager({
      name: 'kubelet-client',
      store,
      template: () => nodeSubject(nodeName),
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: KUBELET_CLIENT_USAGES,
      // kubeadm's kubelet.conf has the certificate inline: stored as the first pair and rotated
      // at once with itself as the credentials (upstream passes clientConfig.CertData/KeyData).
      bootstrap: embeddedClientCertificate(kubeConfig),
      api: (current) => (current ? api() : bootstrapApi()),
      logger,
      // New requests read the kubeconfig's files each time: pointing them at the current symlink
      // is the credential swap (a bootstrapped kubeconfig already names it). The connections
      // made with the old certificate are closed, as upstream's rotating transport closes them,
      // so that its watches and the server's view of the node move to the new one at once.
      onRotated: () => {
        useClientCertificateFile(kubeConfig, store.currentPath());
        logger.info(
          {},
          'Certificate rotation detected, shutting down client connections to start using new credentials',
        );
        closeAllConnections(kubeConfig);
        issued();
      },
    });
    if (await client.load()) issued();
    client.start();
    managers.push(client);
    // Upstream's exitAfter for the rotating client: five minutes without a valid certificate
    // while the API server answers ends the kubelet, for its supervisor to start it again.
    stopWatches.push(watchClientCertificateExpiry({ manager: client, exitAfterMs: 5 * 60_000, logger }));
  }

  let serving: CertificateManager | undefined;
  let applyServing: ((pair: CertificatePair) => void) | undefined;
  if (kubeConfig && config.serverTLSBootstrap) {
    serving = new CertificateManager({
      name: 'kubelet-server',
      store: new CertificateFileStore({
        pairNamePrefix: 'kubelet-server',
        certDirectory: flags.certDir,
        certFile: config.tlsCertFile || undefined,
        keyFile: config.tlsPrivateKeyFile || undefined,
      }),
      // Hostname and IP addresses as the Node reports them, sorted and without duplicates.
      template: () => ({
        ...nodeSubject(nodeName),
        dnsNames: [nodeName],
        ipAddresses: [...new Set(hostIPs)].sort(),
      }),
      signerName: KUBELET_SERVING_SIGNER,
      usages: KUBELET_SERVING_USAGES,
      api,
      logger,
      onRotated: (pair) => applyServing?.(pair),
    });
    await serving.load();
    serving.start();
    managers.push(serving);
  }

  return {
    clientCertificate,
    serving,
    servingTls() {
      const pair = serving?.current();
      if (!serving) return undefined;
      // No certificate yet: the server starts and refuses handshakes until one is issued.
      return pair ? { cert: pair.certPem, key: pair.keyPem } : { cert: '', key: '' };
    },
    attachServer(server) {
      if (!serving || !('setSecureContext' in server)) return;
      applyServing = serveCurrentCertificate(server as HttpsServer, serving, (error) =>
        logger.warn({ err: error.message }, 'TLS handshake refused'),
      );
    },
    stop() {
      for (const manager of managers) manager.stop();
      for (const stopWatch of stopWatches) stopWatch();
    },
  };
}
