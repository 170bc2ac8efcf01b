import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadOrWriteSelfSignedServingFiles,
  SelfSignedServingFilesError,
} from '../src/server/self-signed-serving-files';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-self-signed-serving-${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 2026-01-02T03:04:05Z: the CNs carry its unix seconds, the validity starts an hour before it.
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const UNIX = NOW.getTime() / 1000;
const now = () => NOW;

/** The PEM certificates of a file, in order. */
function pemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

describe('loadOrWriteSelfSignedServingFiles', () => {
  it("writes upstream's pair into a fresh directory: serving certificate then its CA, RSA 2048", async () => {
    const certDirectory = join(dir, 'pki');
    const files = await loadOrWriteSelfSignedServingFiles({ certDirectory, host: 'node-a', now });
    expect(files).toMatchObject({
      certFile: join(certDirectory, 'kubelet.crt'),
      keyFile: join(certDirectory, 'kubelet.key'),
      generated: true,
    });
    const certText = await readFile(files.certFile, 'utf8');
    expect(certText).toBe(files.cert.toString());
    expect(certText.match(/-----BEGIN /g)).toHaveLength(2);
    const [leaf, ca] = pemCertificates(certText) as [X509Certificate, X509Certificate];

    expect(ca.subject).toBe(`CN=node-a-ca@${UNIX}`);
    expect(ca.ca).toBe(true);
    expect(ca.serialNumber).toBe('01');
    expect(ca.subjectAltName).toBeUndefined();
    expect(ca.verify(ca.publicKey)).toBe(true);

    expect(leaf.subject).toBe(`CN=node-a@${UNIX}`);
    expect(leaf.issuer).toBe(`CN=node-a-ca@${UNIX}`);
    expect(leaf.ca).toBe(false);
    expect(leaf.serialNumber).toBe('02');
    expect(leaf.subjectAltName).toBe('DNS:node-a');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // ExtKeyUsage ServerAuth only
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe('rsa');
    expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    // Valid from an hour before now, for 365 days.
    expect(new Date(leaf.validFrom).getTime()).toBe(NOW.getTime() - 3600_000);
    expect(new Date(leaf.validTo).getTime()).toBe(NOW.getTime() - 3600_000 + 365 * 86_400_000);
    expect(new Date(ca.validTo).getTime()).toBe(new Date(leaf.validTo).getTime());

    const keyText = await readFile(files.keyFile, 'utf8');
    expect(keyText).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----\n$/);
    expect(leaf.checkPrivateKey(createPrivateKey(keyText))).toBe(true);

    expect((await stat(files.certFile)).mode & 0o777).toBe(0o644);
    expect((await stat(files.keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(certDirectory)).mode & 0o777).toBe(0o755);
  });

  it('names an IP host as an IP address SAN, nothing else', async () => {
    const files = await loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: '10.0.0.7', now });
    const [leaf] = pemCertificates(files.cert.toString()) as [X509Certificate];
    expect(leaf.subject).toBe(`CN=10.0.0.7@${UNIX}`);
    expect(leaf.subjectAltName).toBe('IP Address:10.0.0.7');
  });

  it('reuses the pair on a later start: same bytes, files not rewritten, however old', async () => {
    const first = await loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: 'node-a', now });
    const before = await Promise.all([stat(first.certFile), stat(first.keyFile)]);
    const later = new Date(NOW.getTime() + 2 * 365 * 86_400_000); // past the certificate's end
    const second = await loadOrWriteSelfSignedServingFiles({
      certDirectory: dir,
      host: 'another-name',
      now: () => later,
    });
    expect(second.generated).toBe(false);
    expect(second.cert.equals(first.cert)).toBe(true);
    expect(second.key.equals(first.key)).toBe(true);
    const after = await Promise.all([stat(first.certFile), stat(first.keyFile)]);
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));
    expect(after.map((s) => s.ino)).toEqual(before.map((s) => s.ino));
  });

  it('uses whatever pair is there as it is (an operator may have put their own)', async () => {
    await writeFile(join(dir, 'kubelet.crt'), 'cert bytes');
    await writeFile(join(dir, 'kubelet.key'), 'key bytes');
    const files = await loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: 'node-a', now });
    expect(files.cert.toString()).toBe('cert bytes');
    expect(files.key.toString()).toBe('key bytes');
  });

  it('refuses one file without the other, naming the missing one (certutil.CanReadCertAndKey)', async () => {
    await writeFile(join(dir, 'kubelet.crt'), 'cert only');
    const attempt = loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: 'node-a', now });
    await expect(attempt).rejects.toBeInstanceOf(SelfSignedServingFilesError);
    await expect(attempt).rejects.toThrow(
      `--cert-dir: error reading ${join(dir, 'kubelet.key')}, certificate and key must be supplied as a pair`,
    );
    // Nothing was generated over the lone file.
    expect(await readFile(join(dir, 'kubelet.crt'), 'utf8')).toBe('cert only');
  });

  it('fails naming --cert-dir and the path when the directory cannot be made', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const certDirectory = join(dir, 'a-file', 'pki');
    const attempt = loadOrWriteSelfSignedServingFiles({ certDirectory, host: 'node-a', now });
    await expect(attempt).rejects.toMatchObject({
      code: 'SELF_SIGNED_SERVING_FILES',
      field: '--cert-dir',
      value: certDirectory,
      message: `--cert-dir: mkdir ${certDirectory}: not a directory`,
    });
  });

  it("logs upstream's V(4) line only when it writes the pair", async () => {
    const lines: [object, string][] = [];
    const logV4 = (fields: object, msg: string) => lines.push([fields, msg]);
    await loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: 'node-a', now, logV4 });
    await loadOrWriteSelfSignedServingFiles({ certDirectory: dir, host: 'node-a', now, logV4 });
    expect(lines).toEqual([
      [
        { TLSCertFile: join(dir, 'kubelet.crt'), TLSPrivateKeyFile: join(dir, 'kubelet.key') },
        'Using self-signed cert',
      ],
    ]);
  });
});
