import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CertificateError } from './certificate-error';

/** A certificate (leaf first, then intermediates) with its private key, as the kubelet uses it. */
export interface CertificatePair {
  /** PEM of the certificates, leaf first. */
  certPem: string;
  /** PEM of the private key. */
  keyPem: string;
  leaf: X509Certificate;
  notBeforeMs: number;
  notAfterMs: number;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g;

/** The PEM blocks in `text` whose type is `type` (e.g. "CERTIFICATE"). */
export function pemBlocks(text: string, type?: string): string[] {
  return [...text.matchAll(PEM_BLOCK)]
    .filter((m) => type === undefined || m[1] === type)
    .map((m) => (m[0].endsWith('\n') ? m[0] : `${m[0]}\n`));
}

/**
 * The pair in `certText` and `keyText` (one combined file may be both, as the kubelet's
 * kubelet-client-current.pem is): certificates must parse and the key must match the leaf.
 */
export function parseCertificatePair(certText: string, keyText: string, source: string): CertificatePair {
  const certs = pemBlocks(certText, 'CERTIFICATE');
  const keys = pemBlocks(keyText).filter((block) => block.includes('PRIVATE KEY-----'));
  if (certs.length === 0 || keys.length === 0)
    throw new CertificateError(
      'INVALID_CERTIFICATE_PAIR',
      'certificate',
      source,
      `could not convert data from "${source}" into cert/key pair: ${certs.length === 0 ? 'no certificate' : 'no private key'} found`,
    );
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0] as string);
    if (!leaf.checkPrivateKey(createPrivateKey(keys[0] as string)))
      throw new Error('private key does not match public key');
  } catch (error) {
    throw new CertificateError(
      'INVALID_CERTIFICATE_PAIR',
      'certificate',
      source,
      `could not convert data from "${source}" into cert/key pair: ${(error as Error).message}`,
    );
  }
  return {
    certPem: certs.join(''),
    keyPem: keys[0] as string,
    leaf,
    notBeforeMs: Date.parse(leaf.validFrom),
    notAfterMs: Date.parse(leaf.validTo),
  };
}
