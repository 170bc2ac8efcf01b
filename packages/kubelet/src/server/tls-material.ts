import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { ecdsaP256, x509 } from '../certificates/x509';

/**
 * A self-signed ECDSA P-256 serving certificate for the kubelet server when neither
 * --tls-cert-file nor serverTLSBootstrap gives one (upstream generates one at start too): CN
 * `<hostname>@<unix time>`, the hostname and `ips` as SANs, valid one year.
 */
export async function selfSignedCertificate(
  hostname: string,
  ips: string[],
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const names: x509.JsonGeneralName[] = [
    { type: 'dns', value: hostname },
    ...ips.filter((ip) => isIP(ip) !== 0).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: now.toString(16),
    name: [{ CN: [`${hostname}@${Math.floor(now / 1000)}`] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
