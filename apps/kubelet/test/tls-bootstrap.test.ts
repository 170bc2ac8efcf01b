import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { CertificatesV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePort, node, waitFor, writeKubeletConfig } from './binary-harness';

const run = promisify(execFile);
const NODE = 'tls-node';
/**
 * The signer's --cluster-signing-duration: every certificate expires 12 s after it is issued.
 * NotBefore goes back BACKDATE_S, so the kubelet sees a 30 s lifetime and rotates at 70–90 % of
 * it: 3–9 s after issue, leaving the renewal the same 3–9 s before expiry that an unbackdated
 * 30 s certificate leaves it, while the test waits 12 s for the first expiry instead of 30 s.
 */
const LIFETIME_S = 12;
const BACKDATE_S = 18;

/** The certificate the kubelet server presents on 127.0.0.1:`port`. */
function servingCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      if (raw) resolve(raw);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

describe('nodeagent-kubelet joins with only a bootstrap kubeconfig (TLS bootstrapping)', () => {
  let dir: string;
  let api: ApiServer;
  let fake: FakeRuntime;
  let child: ChildProcess | undefined;
  let output = '';
  /** Authenticated user and time of each request the kubelet made. */
  const requests: { user: string; method: string; path: string; at: number }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-kubelet-tls-${process.pid}-`));
    api = await startApiServer({
      tls: true,
      certificates: {
        signingDurationSeconds: LIFETIME_S,
        backdateSeconds: BACKDATE_S,
        approveKubeletServing: true,
      },
      audit: (user, method, path) => requests.push({ user: user.username, method, path, at: Date.now() }),
    });
    fake = await FakeRuntime.start({ images: [] });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child?.once('exit', resolve));
    }
    await fake?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets its client certificate through a CSR, registers its Node with it, rotates both certificates and keeps working', async () => {
    const token = api.createBootstrapToken();
    api.writeBootstrapKubeconfig(join(dir, 'bootstrap-kubelet.conf'), token);
    await writeKubeletConfig(dir, [
      'rotateCertificates: true',
      'serverTLSBootstrap: true',
      // Frequent heartbeats: requests that must keep authenticating across the rotation.
      'nodeStatusUpdateFrequency: 1s',
      'nodeLeaseDurationSeconds: 4',
    ]);
    const port = await freePort();
    const kubeconfig = join(dir, 'kubelet.conf');
    const certDir = join(dir, 'pki');
    child = spawn(
      node,
      [
        cli,
        '--config',
        join(dir, 'config.yaml'),
        '--bootstrap-kubeconfig',
        join(dir, 'bootstrap-kubelet.conf'),
        '--kubeconfig',
        kubeconfig,
        ...fakeNodeFlags({
          nodeName: NODE,
          rootDir: join(dir, 'root'),
          endpoint: fake.endpoint,
          port,
          certDir,
        }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const csrApi = api.kubeConfig().makeApiClient(CertificatesV1Api);

    // 1. The bootstrap CSR, sent with the token, approved and signed; the Node registered by the node's own identity.
    await waitFor(
      'node registered',
      async () => (await core.readNode({ name: NODE })).metadata?.name === NODE,
      60_000,
    );
    // With rotateCertificates the certificate manager sends the bootstrap CSR in the background
    // (upstream LoadClientConfig), named by generateName as its renewals are.
    const bootstrapCsr = (await csrApi.listCertificateSigningRequest()).items.find(
      (c) => c.spec.username === `system:bootstrap:${token.slice(0, 6)}`,
    );
    expect(bootstrapCsr?.metadata?.name).toMatch(/^csr-/);
    expect(bootstrapCsr?.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(requests.find((r) => r.method === 'POST' && r.path === '/api/v1/nodes')?.user).toBe(
      `system:node:${NODE}`,
    );
    expect(await readFile(kubeconfig, 'utf8')).toContain(
      `client-certificate: ${join(certDir, 'kubelet-client-current.pem')}`,
    );
    const firstClient = await readlink(join(certDir, 'kubelet-client-current.pem'));
    const firstClientCert = new X509Certificate(await readFile(firstClient));
    expect(firstClientCert.subject.split('\n').sort()).toEqual([`CN=system:node:${NODE}`, 'O=system:nodes']);

    // 2. The serving certificate from a kubelet-serving CSR, presented by the kubelet server.
    const firstServing = await waitFor(
      'serving certificate',
      async () => {
        const cert = await servingCertificate(port);
        return cert.checkIssued(new X509Certificate(api.clientCA as string)) ? cert : undefined;
      },
      60_000,
    );
    expect(firstServing.subjectAltName).toBe(`DNS:${NODE}, IP Address:127.0.0.1`);
    expect((await lstat(join(certDir, 'kubelet-server-current.pem'))).isSymbolicLink()).toBe(true);

    // 3. Rotation at 70–90 % of the lifetime: new CSRs sent as the node itself, new files behind the symlinks.
    const renewed = await waitFor(
      'client certificate rotated',
      async () => {
        const target = await readlink(join(certDir, 'kubelet-client-current.pem'));
        return target !== firstClient ? target : undefined;
      },
      (LIFETIME_S + 30) * 1000,
    );
    const renewedCert = new X509Certificate(await readFile(renewed));
    expect(renewedCert.serialNumber).not.toBe(firstClientCert.serialNumber);
    const renewal = (await csrApi.listCertificateSigningRequest()).items.find(
      (c) =>
        c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' &&
        c.spec.username === `system:node:${NODE}`,
    );
    expect(renewal?.metadata?.name).toMatch(/^csr-/);
    expect(renewal?.status?.conditions?.[0]?.message).toBe(
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    );
    const rotatedServing = await waitFor(
      'serving certificate rotated',
      async () => {
        const cert = await servingCertificate(port);
        return cert.serialNumber !== firstServing.serialNumber ? cert : undefined;
      },
      (LIFETIME_S + 30) * 1000,
    );
    expect(rotatedServing.checkIssued(new X509Certificate(api.clientCA as string))).toBe(true);

    // 4. Past the first certificate's expiry the server would refuse it (401): heartbeats that still
    //    authenticate as the node prove the process switched to the new credentials.
    const expiry = Date.parse(firstClientCert.validTo);
    await waitFor(
      'authenticated heartbeats after the first certificate expired',
      async () =>
        requests.filter((r) => r.at > expiry + 2000 && r.user === `system:node:${NODE}` && r.method !== 'GET')
          .length >= 3,
      (LIFETIME_S + 30) * 1000,
    );
    expect(output).not.toMatch(/"statusCode":401|HTTP-Code: 401/);
    const lease = await api
      .kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: NODE, namespace: 'kube-node-lease' });
    expect(Date.parse(String(lease.spec?.renewTime))).toBeGreaterThan(expiry);

    // 5. kubectl get csr lists them.
    const admin = join(dir, 'admin.conf');
    api.writeKubeconfig(admin);
    const { stdout } = await run('kubectl', ['--kubeconfig', admin, 'get', 'csr'], { timeout: 30_000 });
    expect(stdout).toMatch(
      new RegExp(
        `csr-\\w+\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${token.slice(0, 6)}\\s+<none>\\s+Approved,Issued`,
      ),
    );
    expect(stdout).toMatch(
      new RegExp(
        `csr-\\w+\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:node:${NODE}\\s+<none>\\s+Approved,Issued`,
      ),
    );
    expect(stdout).toMatch(
      new RegExp(
        `csr-\\w+\\s+\\S+\\s+kubernetes.io/kubelet-serving\\s+system:node:${NODE}\\s+<none>\\s+Approved,Issued`,
      ),
    );
  }, 400_000);
});
