import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { CertificatesV1Requests } from '@nodeagent/informer';
import { isAlreadyExists } from '@nodeagent/informer/errors';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { loadX509 } from '@nodeagent/primitives/certificates';
import type { x509 as X509 } from '@nodeagent/primitives/x509';
import { sleepOn } from '../clock-timers';
import { CertificateError } from './certificate-error';

/** What to put in a CertificateSigningRequest (certificates.k8s.io/v1 CSR spec) sent by requestCertificate. */
export interface CertificateSigningRequestInput {
  /** PEM "CERTIFICATE REQUEST". */
  requestPem: string;
  /** A fixed name (bootstrap's digested name) or undefined for generateName "csr-". */
  name?: string;
  /** The signer to ask, e.g. `kubernetes.io/kube-apiserver-client-kubelet`. */
  signerName: string;
  /** Key usages, e.g. `digital signature` and `client auth`. */
  usages: readonly string[];
  /** spec.expirationSeconds to ask for; undefined lets the signer choose. */
  expirationSeconds?: number;
}

/**
 * Creates the CertificateSigningRequest (upstream's csr.RequestCertificate). When one with the
 * same name exists and asks for the same thing it is reused, so a restarted kubelet waits for the
 * CSR it already sent instead of failing.
 */
export async function requestCertificate(
  api: Pick<CertificatesV1Requests, 'createCertificateSigningRequest' | 'readCertificateSigningRequest'>,
  input: CertificateSigningRequestInput,
): Promise<{ name: string; uid: string }> {
  const body: V1CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: input.name ? { name: input.name } : { generateName: 'csr-' },
    spec: {
      request: Buffer.from(input.requestPem).toString('base64'),
      signerName: input.signerName,
      usages: [...input.usages],
      ...(input.expirationSeconds !== undefined ? { expirationSeconds: input.expirationSeconds } : {}),
    },
  };
  try {
    const created = await api.createCertificateSigningRequest({ body });
    return { name: created.metadata?.name ?? '', uid: created.metadata?.uid ?? '' };
  } catch (error) {
    if (!input.name || !isAlreadyExists(error)) throw error;
  }
  const existing = await api.readCertificateSigningRequest({ name: input.name });
  const problem = incompatibility(
    await loadX509(),
    input,
    Buffer.from(existing.spec?.request ?? '', 'base64').toString(),
    existing.spec?.signerName,
  );
  if (problem)
    throw new CertificateError(
      'INCOMPATIBLE_CSR',
      'certificateSigningRequest',
      input.name,
      `retrieved csr is not compatible: ${problem}`,
    );
  return { name: input.name, uid: existing.metadata?.uid ?? '' };
}

/**
 * Why an existing CSR is not the one we would send (upstream's ensureCompatible): a different
 * subject, signer or public key. Signatures differ on every ECDSA signing, so they are not compared.
 */
function incompatibility(
  x509: typeof X509,
  input: CertificateSigningRequestInput,
  existingPem: string,
  existingSigner?: string,
): string | undefined {
  let mine: X509.Pkcs10CertificateRequest;
  let theirs: X509.Pkcs10CertificateRequest;
  try {
    mine = new x509.Pkcs10CertificateRequest(input.requestPem);
    theirs = new x509.Pkcs10CertificateRequest(existingPem);
  } catch (error) {
    return `unable to parse csr: ${(error as Error).message}`;
  }
  if (mine.subject !== theirs.subject)
    return `csr subjects differ: new: ${mine.subject}, orig: ${theirs.subject}`;
  if (input.signerName && existingSigner && input.signerName !== existingSigner)
    return `csr signerNames differ: new ${input.signerName}, orig: ${existingSigner}`;
  if (Buffer.compare(Buffer.from(mine.publicKey.rawData), Buffer.from(theirs.publicKey.rawData)) !== 0)
    return 'csr public keys differ';
  return undefined;
}

/** How long and how often waitForCertificate polls a CSR for its issued certificate. */
export interface CertificateWaitOptions {
  /** Give up after this long (upstream: 1 h for bootstrap, 15 min for rotation). */
  timeoutMs: number;
  /** How often to read the CSR again. Default 1 s. */
  pollIntervalMs?: number;
  /** Current time in epoch milliseconds, for the timeout (default Date.now). */
  now?: () => number;
  /** The clock the polls wait on (default: the system clock); `sleep` replaces it when given. */
  clock?: Clock;
  /** Waits between polls, instead of a timer on `clock`. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits until the CSR named `name` (with `uid`, so a recreated one is not mistaken for it) is
 * approved and carries a certificate, and returns that PEM — upstream's csr.WaitForCertificate.
 * A Denied or Failed condition ends the wait with upstream's message.
 */
export async function waitForCertificate(
  api: Pick<CertificatesV1Requests, 'readCertificateSigningRequest'>,
  csr: { name: string; uid: string },
  options: CertificateWaitOptions,
): Promise<string> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => sleepOn(options.clock ?? systemClock, ms));
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const current = await api.readCertificateSigningRequest({ name: csr.name }).catch(() => undefined);
    if (current && (!csr.uid || current.metadata?.uid === csr.uid)) {
      const conditions = current.status?.conditions ?? [];
      for (const [type, code, outcome] of [
        ['Denied', 'CSR_DENIED', 'is denied'],
        ['Failed', 'CSR_FAILED', 'failed'],
      ] as const) {
        const condition = conditions.find((c) => c.type === type);
        if (condition)
          throw new CertificateError(
            code,
            'certificateSigningRequest',
            csr.name,
            `certificate signing request ${outcome}, reason: ${condition.reason ?? ''}, message: ${condition.message ?? ''}`,
          );
      }
      const certificate = current.status?.certificate;
      if (conditions.some((c) => c.type === 'Approved') && certificate)
        return Buffer.from(certificate, 'base64').toString();
    }
    if (now() >= deadline)
      throw new CertificateError(
        'CSR_TIMEOUT',
        'certificateSigningRequest',
        csr.name,
        'timed out waiting for the condition: certificate request was not signed',
      );
    await sleep(options.pollIntervalMs ?? 1000);
  }
}
