import { x509 } from '@nodeagent/primitives/x509';

/** The PKCS#10 request in a CSR's spec.request (base64 of PEM on the wire). */
export function parseCertificateRequest(pem: string): x509.Pkcs10CertificateRequest {
  const block = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----/.exec(pem);
  if (!block) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  return new x509.Pkcs10CertificateRequest(block[0]);
}
