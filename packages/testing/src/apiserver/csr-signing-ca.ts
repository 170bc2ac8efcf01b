import { webcrypto } from 'node:crypto';
import { ecdsaP256, randomSerial, x509 } from '@nodeagent/primitives/x509';

/** The cluster CA the CSR signer issues from (kubeadm's /etc/kubernetes/pki/ca.crt and ca.key). */
export interface SigningCA {
  /** PEM of the CA certificate: what clients of the kubelet and the server trust. */
  certPem: string;
  cert: x509.X509Certificate;
  privateKey: webcrypto.CryptoKey;
}

/** A new self-signed ECDSA P-256 CA named "kubernetes" (kubeadm's CA name), valid ten years. */
export async function createSigningCA(now: Date = new Date()): Promise<SigningCA> {
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=kubernetes',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), cert, privateKey: keys.privateKey };
}
