import { X509Certificate } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificatesV1Api } from '@kubernetes/client-node';
import { coreV1Requests, KubeListerWatcher } from '@nodeagent/informer';
import { loadClientCert } from '@nodeagent/kubelet/certificates';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKubeletOptions } from '../src/kubelet-flags';
import {
  bootstrapClientCertificate,
  type KubeletCertificates,
  loadKubeconfig,
  startCertificateManagers,
} from '../src/tls-bootstrap';
import { waitFor } from './binary-harness';

const NODE = 'kubeadm-cp';

/** Log lines, kept to check what was (not) said. */
function recordingLogger(lines: string[]) {
  const record = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { info: record, warn: record, error: record };
}

/**
 * kubeadm init writes kubelet.conf with the node's client certificate inline and passes
 * --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf, which does not exist on the
 * first control-plane node. Upstream stores the inline pair in the cert dir and rotates it at
 * once with the credentials it has; the bootstrap kubeconfig is never read. kubeadm's
 * kubelet-finalize phase then points kubelet.conf at kubelet-client-current.pem.
 */
describe('client certificate rotation from a kubeconfig with an inline certificate (kubeadm init)', () => {
  let dir: string;
  let api: ApiServer;
  let certificates: KubeletCertificates | undefined;
  const requests: { user: string; method: string; path: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-embedded-cert-${process.pid}-`));
    api = await startApiServer({
      tls: true,
      audit: (user, method, path) => requests.push({ user: user.username, method, path }),
    });
  });

  afterAll(async () => {
    certificates?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the inline pair, rotates it with kubelet.conf as credentials and never reads the bootstrap kubeconfig', async () => {
    // The certificate kubeadm would sign for the node: obtained here through a bootstrap-token
    // CSR in another directory, then inlined into kubelet.conf as kubeadm writes it.
    const seed = join(dir, 'seed');
    api.writeBootstrapKubeconfig(join(dir, 'seed-bootstrap.conf'), api.createBootstrapToken());
    await loadClientCert({
      kubeconfigPath: join(dir, 'seed.conf'),
      bootstrapKubeconfigPath: join(dir, 'seed-bootstrap.conf'),
      certDir: seed,
      nodeName: NODE,
    });
    const seedPem = await readFile(join(seed, 'kubelet-client-current.pem'), 'utf8');
    const seedCert = new X509Certificate(seedPem);
    const keyPem = seedPem.slice(seedPem.indexOf('-----BEGIN', seedPem.lastIndexOf('-----END CERTIFICATE')));
    const kubeletConf = join(dir, 'kubelet.conf');
    await writeFile(
      kubeletConf,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'kubernetes',
            cluster: {
              server: api.url,
              'certificate-authority-data': Buffer.from(api.caCertificate as string).toString('base64'),
            },
          },
        ],
        users: [
          {
            name: `system:node:${NODE}`,
            user: {
              'client-certificate-data': Buffer.from(seedCert.toString()).toString('base64'),
              'client-key-data': Buffer.from(keyPem).toString('base64'),
            },
          },
        ],
        contexts: [
          {
            name: `system:node:${NODE}@kubernetes`,
            context: { cluster: 'kubernetes', user: `system:node:${NODE}` },
          },
        ],
        'current-context': `system:node:${NODE}@kubernetes`,
      }),
      { mode: 0o600 },
    );
    await writeFile(
      join(dir, 'config.yaml'),
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nrotateCertificates: true\n',
    );
    const certDir = join(dir, 'pki');
    const bootstrapKubeconfig = join(dir, 'bootstrap-kubelet.conf');
    const options = await resolveKubeletOptions([
      `--config=${join(dir, 'config.yaml')}`,
      `--kubeconfig=${kubeletConf}`,
      `--bootstrap-kubeconfig=${bootstrapKubeconfig}`,
      `--cert-dir=${certDir}`,
      `--hostname-override=${NODE}`,
    ]);
    const log: string[] = [];
    const logger = recordingLogger(log);
    const firstRequest = requests.length;

    // What runKubelet does before the runtime: bootstrap (skipped: kubelet.conf is valid), read
    // the kubeconfig, start the certificate managers.
    const bootstrapped = await bootstrapClientCertificate(options, NODE, logger);
    expect(bootstrapped).toBe(false);
    const kubeConfig = loadKubeconfig(kubeletConf);
    // The connections each request came over (the TLS socket under an HTTP/2 stream).
    const connections: object[] = [];
    const unobserve = api.observeRequests((_req, _res, connection) => connections.push(connection));
    await coreV1Requests(kubeConfig)
      .readNode({ name: NODE })
      .catch(() => undefined);
    const seedConnection = connections.at(-1) as { destroyed: boolean };
    // A watch keeps that connection busy: only closing it ends the watch before its 10 minutes.
    const nodes = new KubeListerWatcher(kubeConfig, { apiVersion: 'v1', plural: 'nodes' });
    const listed = await nodes.list({}, new AbortController().signal);
    let watchEnded = false;
    void nodes
      .watch(
        {
          resourceVersion: listed.resourceVersion,
          timeoutSeconds: 600,
          allowWatchBookmarks: false,
          inactivityTimeoutMs: 700_000,
        },
        () => {},
        new AbortController().signal,
      )
      .catch(() => undefined)
      .finally(() => {
        watchEnded = true;
      });
    certificates = await startCertificateManagers(options, kubeConfig, NODE, ['127.0.0.1'], logger, {
      bootstrapped,
    });

    // A new certificate behind kubelet-client-current.pem, in a kubelet-client-<time>.pem file.
    const current = join(certDir, 'kubelet-client-current.pem');
    const rotated = await waitFor(
      'client certificate rotated',
      async () => {
        const pem = await readFile(current, 'utf8');
        const cert = new X509Certificate(pem);
        return cert.serialNumber !== seedCert.serialNumber ? cert : undefined;
      },
      60_000,
    );
    expect((await lstat(current)).isSymbolicLink()).toBe(true);
    expect(await readlink(current)).toMatch(/\/kubelet-client-\d{4}(-\d{2}){5}\.pem$/);
    expect(
      (await readdir(certDir)).filter((f) => /^kubelet-client-\d{4}(-\d{2}){5}\.pem$/.test(f)),
    ).not.toEqual([]);
    expect(rotated.subject.split('\n').sort()).toEqual([`CN=system:node:${NODE}`, 'O=system:nodes']);
    expect(rotated.checkIssued(new X509Certificate(api.clientCA as string))).toBe(true);

    // The CSR went out as the node, with kubelet.conf's inline certificate: no bootstrap token.
    const csrs = await api.kubeConfig().makeApiClient(CertificatesV1Api).listCertificateSigningRequest();
    const renewal = csrs.items.find(
      (c) => c.spec.username === `system:node:${NODE}` && c.status?.certificate !== undefined,
    );
    expect(renewal?.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    const csrPosts = requests
      .slice(firstRequest)
      .filter((r) => r.method === 'POST' && r.path.includes('certificatesigningrequests'));
    expect(csrPosts.map((r) => r.user)).toEqual([`system:node:${NODE}`]);
    // The bootstrap kubeconfig (absent, as on kubeadm's first control-plane node) was never read.
    expect(log.join('\n')).not.toMatch(/ENOENT|bootstrap-kubelet\.conf/);

    // The API clients use the rotated certificate from now on, over a new connection: the one
    // made with the inline certificate was closed at the rotation, as upstream's transport does.
    expect(kubeConfig.getCurrentUser()?.certFile).toBe(current);
    expect(log.join('\n')).toContain(
      'Certificate rotation detected, shutting down client connections to start using new credentials',
    );
    await waitFor(
      "the watch on the first certificate's connection ended",
      async () => watchEnded || undefined,
    );
    expect(seedConnection.destroyed).toBe(true);
    const before = requests.length;
    await coreV1Requests(kubeConfig)
      .readNode({ name: NODE })
      .catch(() => undefined);
    expect(requests.slice(before).map((r) => r.user)).toEqual([`system:node:${NODE}`]);
    expect(connections.at(-1)).not.toBe(seedConnection);
    unobserve();
  }, 400_000);
});
