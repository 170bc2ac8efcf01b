import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServingCert {
  /** PEM certificate (also the CA clients trust: it is self-signed). */
  cert: string;
  key: string;
}

/** Raised when the `openssl` CLI is missing or fails. */
export class CertificateError extends Error {
  readonly code = 'CERT_GENERATION_FAILED';
  constructor(readonly detail: string) {
    super(`could not create a self-signed serving certificate with openssl: ${detail}`);
    this.name = 'CertificateError';
  }
}

/**
 * A throwaway self-signed P-256 certificate for 127.0.0.1 / localhost, made with the openssl
 * CLI (Node cannot create X.509 certificates itself). Files live in a unique temp dir that is
 * removed before returning.
 */
export function createServingCert(): ServingCert {
  const dir = mkdtempSync(join(tmpdir(), `na-apiserver-cert-${process.pid}-`));
  try {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=nodeagent-test-apiserver',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } catch (err) {
    throw new CertificateError(
      (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
