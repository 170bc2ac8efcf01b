import { webcrypto } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { ecdsaP256, randomSerial, x509 } from '@nodeagent/primitives/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateManager } from '../src/certificates/certificate-manager';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  nodeSubject,
} from '../src/certificates/certificate-request';
import { CertificateFileStore } from '../src/certificates/certificate-store';

/** A self-signed pair for CN=system:node:node-a, O=system:nodes (what the template asks), valid a year. */
async function nodeClientPair(): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=system:node:node-a, O=system:nodes',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: ecdsaP256,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: `${cert.toString('pem')}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
  };
}

/** A manager whose API is never reached: these tests look at load() and the deadline only. */
function manager(certDir: string, clock: FakeClock, bootstrap?: { certPem: string; keyPem: string }) {
  const store = new CertificateFileStore({
    pairNamePrefix: 'kubelet-client',
    certDirectory: certDir,
    now: () => clock.now(),
  });
  return {
    store,
    manager: new CertificateManager({
      name: 'kubelet-client',
      store,
      template: () => nodeSubject('node-a'),
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: KUBELET_CLIENT_USAGES,
      api: () => {
        throw new Error('no API in this test');
      },
      bootstrap,
      now: () => clock.now(),
    }),
  };
}

/**
 * Upstream's getCurrentCertificateOrBootstrap: with no stored pair, the kubeconfig's inline
 * certificate (kubeadm's kubelet.conf) becomes the first stored pair and is due for rotation at
 * once; a stored, unexpired pair wins over it.
 */
describe('CertificateManager with a bootstrap pair (inline kubeconfig certificate)', () => {
  let dir: string;
  let pair: { certPem: string; keyPem: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-cert-bootstrap-pair-${process.pid}-`));
    pair = await nodeClientPair();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores it as kubelet-client-<time>.pem behind kubelet-client-current.pem and rotates at once', async () => {
    const certDir = join(dir, 'empty');
    const clock = new FakeClock(Date.now());
    const { manager: m, store } = manager(certDir, clock, pair);
    const loaded = await m.load();
    expect(loaded?.certPem).toBe(pair.certPem);
    const current = join(certDir, 'kubelet-client-current.pem');
    expect((await lstat(current)).isSymbolicLink()).toBe(true);
    expect(await readlink(current)).toMatch(/\/kubelet-client-\d{4}(-\d{2}){5}\.pem$/);
    expect(await readFile(current, 'utf8')).toBe(`${pair.certPem}${pair.keyPem}`);
    expect((await store.current())?.certPem).toBe(pair.certPem);
    // Valid for a year, still rotated now: the inline certificate is not the node's to keep.
    expect(m.nextRotationDeadline()).toBe(clock.now());
  });

  it('keeps a stored, unexpired pair, with its own deadline, over the bootstrap pair', async () => {
    const certDir = join(dir, 'stored');
    const clock = new FakeClock(Date.now());
    const stored = await nodeClientPair();
    await manager(certDir, clock).store.update(stored.certPem, stored.keyPem);
    const { manager: m } = manager(certDir, clock, pair);
    expect((await m.load())?.certPem).toBe(stored.certPem);
    expect(await readFile(join(certDir, 'kubelet-client-current.pem'), 'utf8')).toBe(
      `${stored.certPem}${stored.keyPem}`,
    );
    // 70-90 % of a year away, not now.
    expect(m.nextRotationDeadline()).toBeGreaterThan(clock.now() + 200 * 24 * 3600 * 1000);
  });

  it('replaces an expired stored pair with the bootstrap pair', async () => {
    const certDir = join(dir, 'expired');
    const clock = new FakeClock(Date.now());
    const stored = await nodeClientPair();
    await manager(certDir, clock).store.update(stored.certPem, stored.keyPem);
    clock.advance(400 * 24 * 3600 * 1000);
    const { manager: m } = manager(certDir, clock, pair);
    expect((await m.load())?.certPem).toBe(pair.certPem);
  });
});
