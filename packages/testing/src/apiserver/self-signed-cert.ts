import { webcrypto } from 'node:crypto';
import { randomSerial } from './csr-signing-ca';
import { ecdsaP256, x509 } from './csr-x509';

export interface ServingCert {
  /** PEM certificate (also the CA clients trust: it is self-signed). */
  cert: string;
  key: string;
}

/** Raised when the serving certificate cannot be made. */
export class CertificateError extends Error {
  readonly code = 'CERT_GENERATION_FAILED';
  constructor(readonly detail: string) {
    super(`could not create a self-signed serving certificate: ${detail}`);
    this.name = 'CertificateError';
  }
}

/**
 * A throwaway self-signed P-256 certificate for 127.0.0.1 / localhost, valid two days, made with
 * @peculiar/x509 on Node's WebCrypto (a few milliseconds, no openssl process).
 */
export async function createServingCert(): Promise<ServingCert> {
  try {
    const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: 'CN=nodeagent-test-apiserver',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 2 * 24 * 3600 * 1000),
      keys,
      signingAlgorithm: ecdsaP256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
  } catch (error) {
    throw new CertificateError((error as Error).message);
  }
}
