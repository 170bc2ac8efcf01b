import { selfSignedCertificate } from '@nodeagent/primitives/x509';

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
 * A throwaway self-signed P-256 certificate for 127.0.0.1 / localhost, valid two days; a CA too,
 * since clients trust it as their root.
 */
export async function createServingCert(): Promise<ServingCert> {
  try {
    return await selfSignedCertificate({
      commonName: 'nodeagent-test-apiserver',
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
      validForMs: 2 * 24 * 3600 * 1000,
      isCA: true,
    });
  } catch (error) {
    throw new CertificateError((error as Error).message);
  }
}
