import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { certificatesV1Requests } from '@nodeagent/informer';
import { stringify } from 'yaml';
import type { KubeletLogger } from '../kubelet-logger';
import { CertificateError } from './certificate-error';
import { pemBlocks } from './certificate-pair';
import {
  digestedCsrName,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  makeCertificateRequestPem,
  nodeSubject,
} from './certificate-request';
import { CertificateFileStore } from './certificate-store';
import { requestCertificate, waitForCertificate } from './csr-client';
import { isValidPrivateKeyPem, loadOrGenerateKeyFile } from './private-key';

/** Where the key of a bootstrap CSR waits until the certificate arrives (upstream's name). */
export const TMP_PRIVATE_KEY_FILE = 'kubelet-client.key.tmp';

/** Inputs of loadClientCert: the kubeconfigs, the certificate directory and the node name to request a certificate for. */
export interface ClientBootstrapOptions {
  /** --kubeconfig: written here, pointing at the certificate, when bootstrapping happens. */
  kubeconfigPath: string;
  /** --bootstrap-kubeconfig: the credentials the CSR is sent with. */
  bootstrapKubeconfigPath: string;
  /** --cert-dir. */
  certDir: string;
  /** The node the certificate is for (its subject is `system:node:<nodeName>`). */
  nodeName: string;
  logger?: KubeletLogger;
  /** Current time in epoch milliseconds, to tell whether the present certificate is still valid (default Date.now). */
  now?: () => number;
  /** How long to wait for the signed certificate. Default 1 h, as upstream. */
  timeoutMs?: number;
  pollIntervalMs?: number;
}

/** The client certificate PEM a kubeconfig's current user carries, from a file or inline. */
async function kubeconfigClientCertificate(kubeConfig: KubeConfig): Promise<string | undefined> {
  const user = kubeConfig.getCurrentUser();
  if (user?.certData) return Buffer.from(user.certData, 'base64').toString();
  if (user?.certFile) return readFile(user.certFile, 'utf8');
  return undefined;
}

/**
 * Whether --kubeconfig exists and its client certificates are all still valid (upstream's
 * isClientConfigStillValid). Anything unreadable, certificate-less or expired means "bootstrap".
 */
export async function isClientConfigStillValid(
  kubeconfigPath: string,
  now: number,
  logger?: KubeletLogger,
): Promise<boolean> {
  try {
    await readFile(kubeconfigPath);
  } catch {
    return false;
  }
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const pem = await kubeconfigClientCertificate(kubeConfig);
    const certs = pem ? pemBlocks(pem, 'CERTIFICATE') : [];
    if (certs.length === 0) {
      logger?.warn(
        { path: kubeconfigPath },
        `unable to read TLS certificates from existing bootstrap client config read from ${kubeconfigPath}`,
      );
      return false;
    }
    for (const cert of certs) {
      const notAfterMs = Date.parse(new X509Certificate(cert).validTo);
      if (now > notAfterMs) {
        logger?.warn(
          { path: kubeconfigPath, notAfter: new Date(notAfterMs).toISOString() },
          `part of the existing bootstrap client certificate in ${kubeconfigPath} is expired: ${new Date(notAfterMs).toISOString()}`,
        );
        return false;
      }
    }
    return true;
  } catch (error) {
    logger?.warn(
      { path: kubeconfigPath, err: String(error) },
      `unable to read existing bootstrap client config from ${kubeconfigPath}`,
    );
    return false;
  }
}

/**
 * The kubeconfig upstream's bootstrap writes (writeKubeconfigFromBootstrapping): the bootstrap
 * kubeconfig's server and CA, and client-certificate and client-key both naming the current pem.
 */
export function bootstrappedKubeconfigYaml(bootstrap: KubeConfig, pemPath: string): string {
  const cluster = bootstrap.getCurrentCluster();
  const clusterEntry: Record<string, unknown> = { server: cluster?.server ?? '' };
  if (cluster?.skipTLSVerify) clusterEntry['insecure-skip-tls-verify'] = true;
  if (cluster?.caFile) clusterEntry['certificate-authority'] = cluster.caFile;
  else if (cluster?.caData) clusterEntry['certificate-authority-data'] = cluster.caData;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster: clusterEntry }],
    users: [{ name: 'default-auth', user: { 'client-certificate': pemPath, 'client-key': pemPath } }],
    contexts: [
      {
        name: 'default-context',
        context: { cluster: 'default-cluster', user: 'default-auth', namespace: 'default' },
      },
    ],
    'current-context': 'default-context',
    preferences: {},
  });
}

/** Inputs of loadClientConfig, the bootstrap path taken with client certificate rotation on. */
export interface ClientConfigBootstrapOptions {
  /** --kubeconfig: used as it is while valid, otherwise written pointing at the rotated certificate. */
  kubeconfigPath: string;
  /** --bootstrap-kubeconfig: its server and CA go into the written kubeconfig. */
  bootstrapKubeconfigPath: string;
  /** --cert-dir, where `kubelet-client-current.pem` lives. */
  certDir: string;
  logger?: KubeletLogger;
  /** Current time in epoch milliseconds, to tell whether --kubeconfig is still valid (default Date.now). */
  now?: () => number;
}

/**
 * Upstream's bootstrap.LoadClientConfig, the path taken with client certificate rotation on:
 * nothing is requested here. A valid --kubeconfig is used as it is (the bootstrap kubeconfig then
 * goes unused); otherwise --kubeconfig is written pointing at `<cert-dir>/kubelet-client-current.pem`
 * with the bootstrap kubeconfig's server and CA, and the certificate manager requests the pair in
 * the background with the bootstrap credentials. Returns whether that happened.
 */
export async function loadClientConfig(options: ClientConfigBootstrapOptions): Promise<boolean> {
  const now = options.now ?? Date.now;
  const { logger, kubeconfigPath } = options;
  if (await isClientConfigStillValid(kubeconfigPath, now(), logger)) {
    logger?.info({}, 'Current kubeconfig file contents are still valid, no bootstrap necessary');
    return false;
  }
  const bootstrap = new KubeConfig();
  try {
    bootstrap.loadFromFile(options.bootstrapKubeconfigPath);
  } catch (error) {
    throw new CertificateError(
      'BOOTSTRAP_KUBECONFIG',
      'bootstrapKubeconfig',
      options.bootstrapKubeconfigPath,
      `unable to load bootstrap kubeconfig: ${(error as Error).message}`,
    );
  }
  const store = new CertificateFileStore({
    pairNamePrefix: 'kubelet-client',
    certDirectory: options.certDir,
  });
  await mkdir(dirname(kubeconfigPath), { recursive: true });
  await writeFile(kubeconfigPath, bootstrappedKubeconfigYaml(bootstrap, store.currentPath()), {
    mode: 0o600,
  });
  logger?.info(
    {},
    'Use the bootstrap credentials to request a cert, and set kubeconfig to point to the certificate dir',
  );
  return true;
}

/**
 * TLS bootstrapping of the client certificate (upstream's bootstrap.LoadClientCert): unless
 * --kubeconfig is valid, send a CSR for CN system:node:<name>, O system:nodes with the bootstrap
 * credentials, wait for the signed certificate, store it as kubelet-client-<time>.pem behind the
 * kubelet-client-current.pem symlink, and write --kubeconfig pointing at it. Returns whether a
 * new certificate was obtained.
 */
export async function loadClientCert(options: ClientBootstrapOptions): Promise<boolean> {
  const now = options.now ?? Date.now;
  const { logger, kubeconfigPath, certDir } = options;
  if (await isClientConfigStillValid(kubeconfigPath, now(), logger)) {
    logger?.info({ path: kubeconfigPath }, 'Kubeconfig exists and is valid, skipping bootstrap');
    return false;
  }
  logger?.info({}, 'Using bootstrap kubeconfig to generate TLS client cert, key and kubeconfig file');
  const bootstrap = new KubeConfig();
  bootstrap.loadFromFile(options.bootstrapKubeconfigPath);
  const api = certificatesV1Requests(bootstrap);
  const store = new CertificateFileStore({ pairNamePrefix: 'kubelet-client', certDirectory: certDir, now });

  // A stored pair's key is reused (a valid, unexpired one would have made the kubeconfig valid).
  let keyPem = (await store.current().catch(() => undefined))?.keyPem;
  const tmpKeyPath = join(certDir, TMP_PRIVATE_KEY_FILE);
  if (!isValidPrivateKeyPem(keyPem)) {
    logger?.info(
      {},
      'No valid private key and/or certificate found, reusing existing private key or creating a new one',
    );
    keyPem = await loadOrGenerateKeyFile(tmpKeyPath);
  }
  const template = nodeSubject(options.nodeName);
  const requestPem = await makeCertificateRequestPem(keyPem, template);
  const csr = await requestCertificate(api, {
    requestPem,
    name: digestedCsrName(keyPem, template, KUBELET_CLIENT_USAGES),
    signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
    usages: KUBELET_CLIENT_USAGES,
  });
  logger?.info({ csr: csr.name }, 'Waiting for client certificate to be issued');
  const certPem = await waitForCertificate(api, csr, {
    timeoutMs: options.timeoutMs ?? 3600 * 1000,
    pollIntervalMs: options.pollIntervalMs,
    now,
  });
  await store.update(certPem, keyPem);
  await rm(tmpKeyPath, { force: true });
  await writeFile(kubeconfigPath, bootstrappedKubeconfigYaml(bootstrap, store.currentPath()), {
    mode: 0o600,
  });
  return true;
}
