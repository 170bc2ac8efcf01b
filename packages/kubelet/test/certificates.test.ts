import { X509Certificate } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificatesV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateManager } from '../src/certificates/certificate-manager';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  nodeSubject,
} from '../src/certificates/certificate-request';
import { CertificateFileStore } from '../src/certificates/certificate-store';
import { loadClientCert } from '../src/certificates/client-bootstrap';
import { watchClientCertificateExpiry } from '../src/certificates/client-certificate-expiry';
import { rotationDeadline } from '../src/certificates/rotation-deadline';

const HOUR = 3600 * 1000;

describe('rotationDeadline', () => {
  it('falls between 70 % and 90 % of the lifetime, by the jitter', () => {
    expect(rotationDeadline(1000, 11_000, () => 0)).toBe(8000);
    expect(rotationDeadline(1000, 11_000, () => 1)).toBe(10_000);
    expect(rotationDeadline(1000, 11_000, () => 0.5)).toBe(9000);
  });
});

describe('TLS bootstrapping and rotation against the in-process API server', { timeout: 60_000 }, () => {
  let server: ApiServer;
  let dir: string;
  const requests: { user: string; method: string; path: string }[] = [];

  beforeAll(async () => {
    // One-hour certificates without backdating, so rotation deadlines are 42–54 min after issue.
    server = await startApiServer({
      tls: true,
      certificates: { signingDurationSeconds: 3600, backdateSeconds: 0 },
      audit: (user, method, path) => requests.push({ user: user.username, method, path }),
    });
    dir = await mkdtemp(join(tmpdir(), `na-kubelet-certs-${process.pid}-`));
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores pairs as <prefix>-<time>.pem (0600) behind an atomically replaced -current symlink', async () => {
    const certDir = join(dir, 'store');
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 19, 5, 9));
    const store = new CertificateFileStore({
      pairNamePrefix: 'kubelet-client',
      certDirectory: certDir,
      now: () => clock.now(),
    });
    expect(await store.current()).toBeUndefined();
    // Two real certificates for one node, from bootstrap runs into two cert dirs.
    const first = await bootstrapInto(join(dir, 'store-a'), 'store-node');
    const second = await bootstrapInto(join(dir, 'store-b'), 'store-node');
    await store.update(first.certPem, first.keyPem);
    const stamp = (ms: number) => {
      const d = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}-${two(d.getMinutes())}-${two(d.getSeconds())}`;
    };
    const firstFile = join(certDir, `kubelet-client-${stamp(clock.now())}.pem`);
    expect((await stat(firstFile)).mode & 0o777).toBe(0o600);
    expect(await readlink(join(certDir, 'kubelet-client-current.pem'))).toBe(firstFile);
    clock.advance(61_000);
    await store.update(second.certPem, second.keyPem);
    const secondFile = join(certDir, `kubelet-client-${stamp(clock.now())}.pem`);
    expect(await readlink(join(certDir, 'kubelet-client-current.pem'))).toBe(secondFile);
    expect((await store.current())?.certPem).toBe(second.certPem);
    await expect(lstat(join(certDir, 'kubelet-client-updated.pem'))).rejects.toThrow(/ENOENT/);

    // A regular file where the symlink belongs is refused, as upstream does.
    const other = join(dir, 'store-file');
    const fileStore = new CertificateFileStore({ pairNamePrefix: 'kubelet-client', certDirectory: other });
    await fileStore.update(first.certPem, first.keyPem);
    await rm(join(other, 'kubelet-client-current.pem'));
    await writeFile(join(other, 'kubelet-client-current.pem'), 'x');
    await expect(fileStore.update(first.certPem, first.keyPem)).rejects.toMatchObject({
      code: 'NOT_A_SYMLINK',
    });
  });

  /** Bootstraps node `nodeName` into `certDir` with a new token: the stored pair and the node's kubeconfig. */
  async function bootstrapInto(certDir: string, nodeName: string) {
    const bootstrapPath = join(certDir, '..', `${nodeName}-${Math.random().toString(36).slice(2)}.bootstrap`);
    const kubeconfigPath = join(certDir, 'kubelet.conf');
    server.writeBootstrapKubeconfig(bootstrapPath, server.createBootstrapToken());
    await loadClientCert({
      kubeconfigPath,
      bootstrapKubeconfigPath: bootstrapPath,
      certDir,
      nodeName,
      pollIntervalMs: 50,
    });
    const pair = await new CertificateFileStore({
      pairNamePrefix: 'kubelet-client',
      certDirectory: certDir,
    }).current();
    if (!pair) throw new Error('no pair stored');
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return { ...pair, kc };
  }

  it('bootstraps a client certificate with the bootstrap token, writes the kubeconfig, and the node authenticates with it', async () => {
    const certDir = join(dir, 'pki');
    const kubeconfigPath = join(dir, 'kubelet.conf');
    const bootstrapPath = join(dir, 'bootstrap-kubelet.conf');
    const token = server.createBootstrapToken();
    server.writeBootstrapKubeconfig(bootstrapPath, token);

    const bootstrap = (now?: () => number) =>
      loadClientCert({
        kubeconfigPath,
        bootstrapKubeconfigPath: bootstrapPath,
        certDir,
        nodeName: 'node-a',
        pollIntervalMs: 50,
        now,
      });
    expect(await bootstrap()).toBe(true);
    const current = join(certDir, 'kubelet-client-current.pem');
    expect((await lstat(current)).isSymbolicLink()).toBe(true);
    expect(await readlink(current)).toMatch(/\/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    const pem = await readFile(current, 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN EC PRIVATE KEY-----/);
    const cert = new X509Certificate(pem);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:node-a', 'O=system:nodes']);
    await expect(stat(join(certDir, 'kubelet-client.key.tmp'))).rejects.toThrow(/ENOENT/);

    // The CSR: upstream's digested name, signer, usages; sent as the bootstrap user.
    const admin = server.kubeConfig().makeApiClient(CertificatesV1Api);
    const csrs = (await admin.listCertificateSigningRequest()).items.filter(
      (c) => c.spec.username === `system:bootstrap:${token.slice(0, 6)}`,
    );
    expect(csrs).toHaveLength(1);
    expect(csrs[0]?.metadata?.name).toMatch(/^node-csr-[A-Za-z0-9_-]{43}$/);
    expect(csrs[0]?.spec.signerName).toBe(KUBE_APISERVER_CLIENT_KUBELET_SIGNER);
    expect(csrs[0]?.spec.usages).toEqual([...KUBELET_CLIENT_USAGES]);

    // The kubeconfig upstream writes: the bootstrap's server and CA, client-certificate/-key = current pem.
    const written = await readFile(kubeconfigPath, 'utf8');
    expect(written).toContain(`client-certificate: ${current}`);
    expect(written).toContain(`client-key: ${current}`);
    expect(written).toContain('current-context: default-context');
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    requests.length = 0;
    await kc.makeApiClient(CoreV1Api).listNode();
    expect(requests).toContainEqual({ user: 'system:node:node-a', method: 'GET', path: '/api/v1/nodes' });

    // A valid kubeconfig skips bootstrapping; one whose certificate expired bootstraps again.
    expect(await bootstrap()).toBe(false);
    // kube-controller-manager's csrcleaner deletes a CSR once its certificate expired; this
    // server has no cleaner, so the test does it (the key is reused, so the CSR name is too).
    for (const csr of csrs)
      await admin.deleteCertificateSigningRequest({ name: csr.metadata?.name as string });
    const later = Date.now() + 2 * HOUR;
    expect(await bootstrap(() => later)).toBe(true);
  });

  it('rotates the client certificate at the jittered deadline with a new key, sent with the node’s own credentials', async () => {
    const certDir = join(dir, 'pki-rotate');
    const { kc } = await bootstrapInto(certDir, 'node-r');

    const clock = new FakeClock(Date.now());
    const rotated: string[] = [];
    const store = new CertificateFileStore({
      pairNamePrefix: 'kubelet-client',
      certDirectory: certDir,
      now: () => clock.now(),
    });
    const manager = new CertificateManager({
      name: 'kubelet-client',
      store,
      template: () => nodeSubject('node-r'),
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: KUBELET_CLIENT_USAGES,
      api: () => kc.makeApiClient(CertificatesV1Api),
      now: () => clock.now(),
      random: () => 0.5,
      pollIntervalMs: 50,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      onRotated: (pair) => rotated.push(pair.leaf.serialNumber),
    });
    const first = await manager.load();
    if (!first) throw new Error('bootstrap stored no pair');
    // 80 % (random 0.5) of the one-hour lifetime.
    const deadline = first.notBeforeMs + 0.8 * (first.notAfterMs - first.notBeforeMs);
    expect(manager.nextRotationDeadline()).toBe(deadline);
    clock.set(deadline - 1000);
    expect(await manager.rotateIfDue()).toBe(false);
    expect(rotated).toEqual([]);

    clock.set(deadline + 1000);
    requests.length = 0;
    expect(await manager.rotateIfDue()).toBe(true);
    const second = manager.current();
    expect(rotated).toEqual([second?.leaf.serialNumber]);
    expect(second?.leaf.serialNumber).not.toBe(first.leaf.serialNumber);
    expect(second?.leaf.publicKey.export({ format: 'pem', type: 'spki' })).not.toBe(
      first.leaf.publicKey.export({ format: 'pem', type: 'spki' }),
    );
    // Renewal CSR went out as the node (selfnodeclient), with generateName csr-.
    const create = requests.find((r) => r.method === 'POST');
    expect(create).toEqual({
      user: 'system:node:node-r',
      method: 'POST',
      path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
    });
    // The symlink moved, so the kubeconfig (which names it) uses the new pair on its next request.
    expect(
      (await readFile(join(certDir, 'kubelet-client-current.pem'), 'utf8')).startsWith(
        second?.certPem ?? '?',
      ),
    ).toBe(true);
    requests.length = 0;
    await kc.makeApiClient(CoreV1Api).listNode();
    expect(requests[0]?.user).toBe('system:node:node-r');
    // And the next deadline is computed from the new certificate.
    const next = second as NonNullable<typeof second>;
    expect(manager.nextRotationDeadline()).toBe(
      next.notBeforeMs + 0.8 * (next.notAfterMs - next.notBeforeMs),
    );
  });

  it('sends the renewal with the bootstrap credentials once the current certificate has expired', async () => {
    const certDir = join(dir, 'pki-expired');
    const { kc, notAfterMs } = await bootstrapInto(certDir, 'node-x');
    const token = server.createBootstrapToken();
    const bootstrapPath = join(dir, 'expired-bootstrap.conf');
    server.writeBootstrapKubeconfig(bootstrapPath, token);
    const bootstrap = new KubeConfig();
    bootstrap.loadFromFile(bootstrapPath);
    const clock = new FakeClock(notAfterMs + 1000);
    const used: string[] = [];
    const manager = new CertificateManager({
      name: 'kubelet-client',
      store: new CertificateFileStore({ pairNamePrefix: 'kubelet-client', certDirectory: certDir }),
      template: () => nodeSubject('node-x'),
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: KUBELET_CLIENT_USAGES,
      api: (current) => {
        used.push(current ? 'node' : 'bootstrap');
        return (current ? kc : bootstrap).makeApiClient(CertificatesV1Api);
      },
      now: () => clock.now(),
      pollIntervalMs: 50,
    });
    await manager.load();
    requests.length = 0;
    expect(await manager.rotateIfDue()).toBe(true);
    expect(used).toEqual(['bootstrap']);
    expect(requests.find((r) => r.method === 'POST')?.user).toBe(`system:bootstrap:${token.slice(0, 6)}`);
  });

  it("exits five minutes after the client certificate expired while the server answers its CSRs, and only says so while it does not (upstream's exitAfter)", async () => {
    const certDir = join(dir, 'pki-exit');
    const { notAfterMs } = await bootstrapInto(certDir, 'node-e');
    const clock = new FakeClock(notAfterMs - 60_000);
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'any' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const refused = server.kubeConfig();
    refused.users = refused.users.map((u) => ({
      ...u,
      token: 'not-a-token',
      certData: undefined,
      keyData: undefined,
    }));
    let credentials = unreachable;
    const manager = new CertificateManager({
      name: 'kubelet-client',
      store: new CertificateFileStore({ pairNamePrefix: 'kubelet-client', certDirectory: certDir }),
      template: () => nodeSubject('node-e'),
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: KUBELET_CLIENT_USAGES,
      api: () => credentials.makeApiClient(CertificatesV1Api),
      now: () => clock.now(),
    });
    await manager.load();
    const logged: string[] = [];
    const exits: number[] = [];
    const logger = {
      info: () => {},
      warn: () => {},
      error: (_fields: object, message?: string) => logged.push(message ?? ''),
    };
    const stop = watchClientCertificateExpiry({
      manager,
      exitAfterMs: 5 * 60_000,
      logger,
      exit: (code) => exits.push(code),
      clock,
    });
    try {
      await expect(manager.rotate()).rejects.toThrow();
      expect(manager.serverHealthy()).toBe(false);
      // Valid for one more minute (last seen valid at the check 10 s before it expires), then
      // five minutes without a valid certificate: nothing yet.
      for (let t = 10_000; t < 6 * 60_000; t += 10_000) clock.advance(10_000);
      expect(logged).toEqual([]);
      // Past the threshold with the server unreachable: said at every check, no exit.
      clock.advance(10_000);
      clock.advance(10_000);
      expect(logged).toEqual([
        'No valid client certificate is found but the server is not responsive. A restart may be necessary to retrieve new initial credentials.',
        'No valid client certificate is found but the server is not responsive. A restart may be necessary to retrieve new initial credentials.',
      ]);
      expect(exits).toEqual([]);
      // The server answers, refusing the CSR (403): it is alive, so the kubelet exits.
      credentials = server.kubeConfig();
      server.faults.failNext(1, 403, {
        match: (method, path) => method === 'POST' && path.includes('certificatesigningrequests'),
      });
      await expect(manager.rotate()).rejects.toMatchObject({ code: 403 });
      expect(manager.serverHealthy()).toBe(true);
      clock.advance(10_000);
      expect(logged.at(-1)).toBe(
        'No valid client certificate is found and the server is responsive, exiting.',
      );
      expect(exits).toEqual([1]);
    } finally {
      stop();
    }
  });

  it('asks for a serving certificate at once when there is none or its SANs no longer match', async () => {
    const certDir = join(dir, 'pki-serving');
    const { kc } = await bootstrapInto(certDir, 'node-s');
    let ips = ['127.0.0.1'];
    const manager = new CertificateManager({
      name: 'kubelet-server',
      store: new CertificateFileStore({ pairNamePrefix: 'kubelet-server', certDirectory: certDir }),
      template: () => ({ ...nodeSubject('node-s'), dnsNames: ['node-s'], ipAddresses: ips }),
      signerName: KUBELET_SERVING_SIGNER,
      usages: KUBELET_SERVING_USAGES,
      api: () => kc.makeApiClient(CertificatesV1Api),
      pollIntervalMs: 50,
    });
    await manager.load();
    const admin = server.kubeConfig().makeApiClient(CertificatesV1Api);
    // kube-controller-manager does not approve serving CSRs: approve the way an operator would.
    const approveServing = async () => {
      for (;;) {
        const pending = (await admin.listCertificateSigningRequest()).items.find(
          (c) => c.spec.signerName === KUBELET_SERVING_SIGNER && !c.status?.conditions?.length,
        );
        if (pending) {
          await admin.replaceCertificateSigningRequestApproval({
            name: pending.metadata?.name as string,
            body: {
              ...pending,
              status: {
                conditions: [
                  { type: 'Approved', status: 'True', reason: 'Test', message: 'approved by the test' },
                ],
              },
            },
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const [rotatedNow] = await Promise.all([manager.rotateIfDue(), approveServing()]);
    expect(rotatedNow).toBe(true);
    expect(manager.current()?.leaf.subjectAltName).toBe('DNS:node-s, IP Address:127.0.0.1');
    expect((await lstat(join(certDir, 'kubelet-server-current.pem'))).isSymbolicLink()).toBe(true);
    expect(await manager.rotateIfDue()).toBe(false);

    ips = ['127.0.0.1', '127.0.0.2'];
    const [again] = await Promise.all([manager.rotateIfDue(), approveServing()]);
    expect(again).toBe(true);
    expect(manager.current()?.leaf.subjectAltName).toBe(
      'DNS:node-s, IP Address:127.0.0.1, IP Address:127.0.0.2',
    );
  });
});
