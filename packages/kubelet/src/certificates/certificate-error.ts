import { KubeletError } from '../errors';

/**
 * Everything that goes wrong getting or storing a certificate: a bad key or certificate file, a
 * CSR the API server denied or failed, a signer that never answered.
 */
export class CertificateError extends KubeletError {
  constructor(code: string, field: string, value: unknown, reason: string) {
    super(code, field, value, reason);
  }
}
