import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { ecdsaP256 } from './ecdsa-p256';
import { loadX509 } from './load-x509';
import { randomSerial } from './random-serial';

/** A self-signed certificate's common name, alternative names, lifetime and whether it is a CA. */
export interface SelfSignedOptions {
  commonName: string;
  /** DNS subject alternative names. */
  dnsNames?: readonly string[];
  /** IP subject alternative names; entries that are not IP addresses are left out. */
  ips?: readonly string[];
  /** How long from now it is valid (it is valid from a minute ago, for clock skew). */
  validForMs: number;
  /**
   * A CA certificate (clients trust it as their root, e.g. a test API server's), instead of a
   * serving leaf with digitalSignature/keyEncipherment and serverAuth.
   */
  isCA?: boolean;
}

/** PEM certificate and PKCS#8 PEM private key. */
export interface PemKeyPair {
  cert: string;
  key: string;
}

/** A self-signed ECDSA P-256 certificate made on Node's WebCrypto (milliseconds, no openssl process). */
export async function selfSignedCertificate(options: SelfSignedOptions): Promise<PemKeyPair> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const names: X509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).filter((ip) => isIP(ip) !== 0).map((value) => ({ type: 'ip' as const, value })),
  ];
  const usage = options.isCA
    ? []
    : [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [options.commonName] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + options.validForMs),
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: [
      ...usage,
      new x509.BasicConstraintsExtension(options.isCA ?? false, undefined, true),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
