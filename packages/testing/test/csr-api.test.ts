import { execFile } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificatesV1Api, KubeConfig, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { ecdsaP256, x509 } from '@nodeagent/primitives/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src';

const run = promisify(execFile);

/** A fresh P-256 key (PKCS#8 PEM) and a CSR for `subject` with optional SANs. */
async function makeRequest(
  subject: string,
  sans: x509.JsonGeneralName[] = [],
): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

function csrBody(
  name: string,
  csrPem: string,
  signerName: string,
  usages: string[],
  expirationSeconds?: number,
) {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName,
      usages,
      ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
    },
  } satisfies V1CertificateSigningRequest;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const issued = (api: CertificatesV1Api, name: string) =>
  waitFor(`certificate of ${name}`, async () => {
    const csr = await api.readCertificateSigningRequest({ name });
    return csr.status?.certificate ? Buffer.from(csr.status.certificate, 'base64').toString() : undefined;
  });

/** GET `path` with a client certificate; the HTTP status code. */
function getWithCertificate(server: ApiServer, path: string, cert: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { ca: server.caCertificate, cert, key }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the CSR API with approver and signer', { timeout: 60_000 }, () => {
  let server: ApiServer;
  let dir: string;
  const users: { user: string; path: string; method: string }[] = [];

  beforeAll(async () => {
    server = await startApiServer({
      tls: true,
      audit: (user, method, path) => users.push({ user: user.username, method, path }),
    });
    dir = mkdtempSync(join(tmpdir(), `na-csr-api-${process.pid}-`));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function bootstrapApi(): { api: CertificatesV1Api; token: string } {
    const token = server.createBootstrapToken();
    const path = join(dir, `bootstrap-${token.slice(0, 6)}.kubeconfig`);
    server.writeBootstrapKubeconfig(path, token);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return { api: kc.makeApiClient(CertificatesV1Api), token };
  }

  it('approves and signs a kubelet client CSR sent with a bootstrap token; the certificate then authenticates', async () => {
    const { api, token } = bootstrapApi();
    const { keyPem, csrPem } = await makeRequest('O=system:nodes, CN=system:node:worker-1');
    const created = await api.createCertificateSigningRequest({
      body: csrBody('node-csr-one', csrPem, 'kubernetes.io/kube-apiserver-client-kubelet', [
        'digital signature',
        'client auth',
      ]),
    });
    expect(created.spec.username).toBe(`system:bootstrap:${token.slice(0, 6)}`);
    expect(created.spec.groups).toEqual([
      'system:bootstrappers',
      'system:bootstrappers:kubeadm:default-node-token',
      'system:authenticated',
    ]);
    const pem = await issued(api, 'node-csr-one');
    const csr = await api.readCertificateSigningRequest({ name: 'node-csr-one' });
    expect(csr.status?.conditions?.[0]).toMatchObject({
      type: 'Approved',
      status: 'True',
      reason: 'AutoApproved',
      message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
    });
    // The server stamps conditions the way upstream's strategy does.
    expect(csr.status?.conditions?.[0]?.lastUpdateTime).toBeInstanceOf(Date);
    expect(csr.status?.conditions?.[0]?.lastTransitionTime).toBeInstanceOf(Date);
    const cert = new X509Certificate(pem);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:worker-1', 'O=system:nodes']);
    expect(cert.verify(new X509Certificate(server.clientCA as string).publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    // Upstream's signer backdates NotBefore by 5 minutes and keeps the one-year TTL otherwise.
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(lifetime).toBeGreaterThan(364 * 24 * 3600 * 1000);

    users.length = 0;
    expect(await getWithCertificate(server, '/api/v1/nodes', pem, keyPem)).toBe(200);
    expect(users).toContainEqual({ user: 'system:node:worker-1', method: 'GET', path: '/api/v1/nodes' });
  });

  it('approves a node renewing its own client certificate as selfnodeclient, and honours expirationSeconds', async () => {
    const { api } = bootstrapApi();
    const first = await makeRequest('O=system:nodes, CN=system:node:worker-2');
    await api.createCertificateSigningRequest({
      body: csrBody('node-csr-two', first.csrPem, 'kubernetes.io/kube-apiserver-client-kubelet', [
        'digital signature',
        'client auth',
      ]),
    });
    const firstPem = await issued(api, 'node-csr-two');
    const nodeKc = new KubeConfig();
    nodeKc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: server.url,
          caData: Buffer.from(server.caCertificate as string).toString('base64'),
        },
      ],
      users: [
        {
          name: 'u',
          certData: Buffer.from(firstPem).toString('base64'),
          keyData: Buffer.from(first.keyPem).toString('base64'),
        },
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const nodeApi = nodeKc.makeApiClient(CertificatesV1Api);
    const renewal = await makeRequest('O=system:nodes, CN=system:node:worker-2');
    const created = await nodeApi.createCertificateSigningRequest({
      body: {
        ...csrBody(
          '',
          renewal.csrPem,
          'kubernetes.io/kube-apiserver-client-kubelet',
          ['digital signature', 'client auth'],
          600,
        ),
        metadata: { generateName: 'csr-' },
      },
    });
    expect(created.metadata?.name).toMatch(/^csr-[a-z0-9]{5}$/);
    expect(created.spec.username).toBe('system:node:worker-2');
    const pem = await issued(nodeApi, created.metadata?.name as string);
    const csr = await nodeApi.readCertificateSigningRequest({ name: created.metadata?.name as string });
    expect(csr.status?.conditions?.[0]?.message).toBe(
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    );
    const cert = new X509Certificate(pem);
    // 600 s requested; NotBefore backdated 300 s, NotAfter not (lifetime under 8 h).
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(900_000);
  });

  it('rejects expirationSeconds under 600 with 422 naming the field', async () => {
    const { api } = bootstrapApi();
    const { csrPem } = await makeRequest('O=system:nodes, CN=system:node:worker-3');
    const error = await api
      .createCertificateSigningRequest({
        body: csrBody(
          'short',
          csrPem,
          'kubernetes.io/kube-apiserver-client-kubelet',
          ['digital signature', 'client auth'],
          60,
        ),
      })
      .catch((e: unknown) => e as { code: number; body: string });
    expect((error as { code: number }).code).toBe(422);
    expect(JSON.parse((error as { body: string }).body).message).toContain(
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)',
    );
  });

  it('answers 401 to a bootstrap token whose secret does not match, and to an unverifiable client certificate', async () => {
    const { token } = bootstrapApi();
    const path = join(dir, 'wrong.kubeconfig');
    server.writeBootstrapKubeconfig(path, `${token.slice(0, 7)}0000000000000000`);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const error = await kc
      .makeApiClient(CertificatesV1Api)
      .listCertificateSigningRequest()
      .catch((e: unknown) => e as { code: number });
    expect((error as { code: number }).code).toBe(401);
    // A self-signed certificate the cluster CA did not issue.
    const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const selfSigned = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=system:node:intruder, O=system:nodes',
      keys,
      signingAlgorithm: ecdsaP256,
    });
    const key = x509.PemConverter.encode(
      await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
      'PRIVATE KEY',
    );
    expect(await getWithCertificate(server, '/api/v1/nodes', selfSigned.toString('pem'), key)).toBe(401);
  });

  it('leaves kubelet-serving CSRs pending; kubectl certificate approve gets them signed; kubectl get csr lists them', async () => {
    const { api } = bootstrapApi();
    const { csrPem } = await makeRequest('O=system:nodes, CN=system:node:worker-4', [
      { type: 'dns', value: 'worker-4' },
      { type: 'ip', value: '127.0.0.1' },
    ]);
    await api.createCertificateSigningRequest({
      body: csrBody('serving-4', csrPem, 'kubernetes.io/kubelet-serving', [
        'digital signature',
        'server auth',
      ]),
    });
    await server.certificates?.idle();
    const pending = await api.readCertificateSigningRequest({ name: 'serving-4' });
    expect(pending.status?.conditions ?? []).toEqual([]);

    const kubeconfig = join(dir, 'admin.kubeconfig');
    server.writeKubeconfig(kubeconfig);
    const kubectl = async (...args: string[]) =>
      (await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 })).stdout;
    expect(await kubectl('get', 'csr', 'serving-4')).toMatch(
      /NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\nserving-4\s+\S+\s+kubernetes.io\/kubelet-serving\s+system:bootstrap:\w+\s+<none>\s+Pending/,
    );
    expect(await kubectl('certificate', 'approve', 'serving-4')).toContain(
      'certificatesigningrequest.certificates.k8s.io/serving-4 approved',
    );
    const pem = await issued(api, 'serving-4');
    const cert = new X509Certificate(pem);
    expect(cert.subjectAltName).toBe('DNS:worker-4, IP Address:127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(await kubectl('get', 'csr')).toMatch(
      /serving-4\s+\S+\s+kubernetes.io\/kubelet-serving\s+\S+\s+<none>\s+Approved,Issued/,
    );
  });

  it('marks an approved CSR the signer must refuse as Failed (SignerValidationFailure)', async () => {
    const { api } = bootstrapApi();
    const { csrPem } = await makeRequest('O=system:nodes, CN=system:node:worker-5', [
      { type: 'dns', value: 'worker-5' },
    ]);
    await api.createCertificateSigningRequest({
      body: csrBody('client-with-dns', csrPem, 'kubernetes.io/kube-apiserver-client-kubelet', [
        'digital signature',
        'client auth',
      ]),
    });
    await server.certificates?.idle();
    // Not a node client certificate (DNS SANs), so the approver left it alone: approve by hand.
    const kubeconfig = join(dir, 'admin2.kubeconfig');
    server.writeKubeconfig(kubeconfig);
    await run('kubectl', ['--kubeconfig', kubeconfig, 'certificate', 'approve', 'client-with-dns']);
    const failed = await waitFor('Failed condition', async () => {
      const csr = await api.readCertificateSigningRequest({ name: 'client-with-dns' });
      return csr.status?.conditions?.find((c) => c.type === 'Failed');
    });
    expect(failed).toMatchObject({
      reason: 'SignerValidationFailure',
      message: 'DNS subjectAltNames are not allowed',
    });
  });
});
