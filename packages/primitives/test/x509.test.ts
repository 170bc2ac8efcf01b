import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomSerial, selfSignedCertificate } from '../src/x509/index';

describe('selfSignedCertificate', () => {
  it('makes a serving leaf with the names, validity and key that match', async () => {
    const { cert, key } = await selfSignedCertificate({
      commonName: 'node-a@1700000000',
      dnsNames: ['node-a'],
      ips: ['127.0.0.1', 'not-an-ip'],
      validForMs: 365 * 24 * 3600 * 1000,
    });
    const parsed = new X509Certificate(cert);
    expect(parsed.subject).toBe('CN=node-a@1700000000');
    expect(parsed.subjectAltName).toBe('DNS:node-a, IP Address:127.0.0.1');
    expect(parsed.ca).toBe(false);
    expect(parsed.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(key)))).toBe(
      true,
    );
    const days = (Date.parse(parsed.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it('makes a CA certificate when asked', async () => {
    const { cert } = await selfSignedCertificate({
      commonName: 'test-ca',
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
      validForMs: 2 * 86_400_000,
      isCA: true,
    });
    expect(new X509Certificate(cert).ca).toBe(true);
  });

  it('serials are random, 128-bit and positive', () => {
    const a = randomSerial();
    expect(a).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(randomSerial()).not.toBe(a);
  });
});
