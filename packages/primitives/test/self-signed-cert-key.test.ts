import { createPrivateKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  generateSelfSignedCertKey,
  type RsaKeyPair,
  selfSignedCertKeyFrom,
} from '../src/certificates/self-signed-cert-key';
import { ipAddressBytes } from '../src/ip-address-bytes';
import { x509 } from '../src/x509';

const rsa2048 = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;

function rsaKeys(): RsaKeyPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
}

async function cryptoKeys(keys: RsaKeyPair): Promise<webcrypto.CryptoKeyPair> {
  const subtle = webcrypto.subtle;
  return {
    publicKey: await subtle.importKey(
      'spki',
      keys.publicKey.export({ type: 'spki', format: 'der' }),
      rsa2048,
      true,
      ['verify'],
    ),
    privateKey: await subtle.importKey(
      'pkcs8',
      keys.privateKey.export({ type: 'pkcs8', format: 'der' }),
      rsa2048,
      true,
      ['sign'],
    ),
  };
}

/** The pair as the kubelet made it through @peculiar/x509 before der.ts (the reference encoding). */
async function referencePair(host: string, now: Date, caPair: RsaKeyPair, servingPair: RsaKeyPair) {
  const unixSeconds = Math.floor(now.getTime() / 1000);
  const notBefore = new Date(now.getTime() - 3600 * 1000);
  const notAfter = new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const caKeys = await cryptoKeys(caPair);
  const servingKeys = await cryptoKeys(servingPair);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: [{ CN: [`${host}-ca@${unixSeconds}`] }],
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: rsa2048,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serving = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: [{ CN: [`${host}@${unixSeconds}`] }],
    issuer: ca.subjectName,
    notBefore,
    notAfter,
    publicKey: servingKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: rsa2048,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      new x509.SubjectAlternativeNameExtension([
        isIP(host) !== 0 ? { type: 'ip', value: host } : { type: 'dns', value: host },
      ]),
    ],
  });
  return `${serving.toString('pem')}\n${ca.toString('pem')}\n`;
}

describe('generateSelfSignedCertKey', () => {
  const caKeys = rsaKeys();
  const servingKeys = rsaKeys();

  it.each([
    ['a DNS name', 'node-a', '2026-11-27T12:00:00Z'],
    ['an IPv4 address', '10.1.2.3', '2026-11-27T12:00:00Z'],
    ['an IPv6 address', 'fd00:10::2:1', '2031-02-03T04:05:06Z'],
    [
      'a name past 127 bytes (long-form lengths)',
      `${'a'.repeat(63)}.${'b'.repeat(63)}.node.example`,
      '2026-11-27T12:00:00Z',
    ],
  ])('writes for %s the bytes @peculiar/x509 wrote from the same fields and keys', async (_, host, at) => {
    const now = new Date(at);
    const made = await selfSignedCertKeyFrom(host, now, caKeys, servingKeys);
    expect(made.cert).toBe(await referencePair(host, now, caKeys, servingKeys));
    expect(made.key).toBe(servingKeys.privateKey.export({ type: 'pkcs1', format: 'pem' }));
  });

  it('makes a serving certificate its CA verifies, with upstream names, validity and key', async () => {
    const now = new Date('2026-11-27T12:00:00Z');
    const { cert, key } = await generateSelfSignedCertKey('node-b', now);
    const [servingPem, caPem] = cert.split(/(?<=-----END CERTIFICATE-----)\n/);
    const serving = new X509Certificate(servingPem ?? '');
    const ca = new X509Certificate(caPem ?? '');
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(serving.subject).toBe('CN=node-b@1795780800');
    expect(serving.issuer).toBe('CN=node-b-ca@1795780800');
    expect(serving.subjectAltName).toBe('DNS:node-b');
    expect(serving.ca).toBe(false);
    expect(ca.ca).toBe(true);
    expect(serving.serialNumber).toBe('02');
    expect(new Date(serving.validFrom).toISOString()).toBe('2026-11-27T11:00:00.000Z');
    expect(new Date(serving.validTo).toISOString()).toBe('2027-11-27T11:00:00.000Z');
    expect(serving.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(key.startsWith('-----BEGIN RSA PRIVATE KEY-----\n')).toBe(true);
  });

  it('writes validity from 2050 as GeneralizedTime, as RFC 5280 and Go do', async () => {
    const { cert } = await selfSignedCertKeyFrom(
      'node-c',
      new Date('2050-06-01T00:00:00Z'),
      caKeys,
      servingKeys,
    );
    const serving = new X509Certificate(cert.split(/(?<=-----END CERTIFICATE-----)\n/)[0] ?? '');
    const der = serving.raw;
    // GeneralizedTime's tag (0x18) and length 15 ("20500531230000Z"), then the notAfter's.
    expect(der.includes(Buffer.from('\x18\x0f20500531230000Z', 'latin1'))).toBe(true);
    expect(der.includes(Buffer.from('\x18\x0f20510531230000Z', 'latin1'))).toBe(true);
  });
});

describe('ipAddressBytes', () => {
  it.each([
    ['10.1.2.3', '0a010203'],
    ['fd00:10::2:1', 'fd000010000000000000000000020001'],
    ['::1', '00000000000000000000000000000001'],
    ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
  ])('%s is %s', (text, hex) => {
    expect(ipAddressBytes(text)?.toString('hex')).toBe(hex);
  });

  it('is undefined for a name', () => {
    expect(ipAddressBytes('node-a')).toBeUndefined();
  });
});
