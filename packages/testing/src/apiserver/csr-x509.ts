// @peculiar/x509 set up once for the CSR API: its tsyringe needs the reflect-metadata polyfill
// loaded first, and it signs through Node's WebCrypto.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** The PKCS#10 request in a CSR's spec.request (base64 of PEM on the wire). */
export function parseCertificateRequest(pem: string): x509.Pkcs10CertificateRequest {
  const block = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----/.exec(pem);
  if (!block) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  return new x509.Pkcs10CertificateRequest(block[0]);
}

export { x509 };
