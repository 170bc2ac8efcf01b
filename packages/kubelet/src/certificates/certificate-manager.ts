import type { CertificatesV1Requests } from '@nodeagent/informer';
import { apiStatusCode } from '@nodeagent/informer/errors';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { unrefTimer } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import { type CertificatePair, parseCertificatePair } from './certificate-pair';
import { type CertificateTemplate, makeCertificateRequestPem } from './certificate-request';
import type { CertificateFileStore } from './certificate-store';
import { requestCertificate, waitForCertificate } from './csr-client';
import { generatePrivateKeyPem } from './private-key';
import { rotationDeadline } from './rotation-deadline';

/** How a CertificateManager gets, checks, stores and renews one certificate (client or serving). */
export interface CertificateManagerOptions {
  /** "kubelet-client" or "kubelet-server", for logs. */
  name: string;
  store: CertificateFileStore;
  /** What the certificate must say; undefined while it cannot be known yet (no node addresses). */
  template: () => CertificateTemplate | undefined;
  signerName: string;
  usages: readonly string[];
  /**
   * The client CSRs are sent with, given the current pair if it is still valid: the node's own
   * credentials, or (upstream's newClientsetFn) the bootstrap credentials once it has none.
   */
  api: (current: CertificatePair | undefined) => CertificatesV1Requests;
  /** spec.expirationSeconds to ask for; undefined lets the signer choose. */
  requestedDurationSeconds?: number;
  /**
   * The pair to start from when the store holds none (or only an expired one): kubeadm's
   * kubelet.conf carries its client certificate inline. It is written to the store and rotated
   * out at once, with the credentials it is itself (upstream's bootstrap certificate PEM).
   */
  bootstrap?: { certPem: string; keyPem: string };
  /** Called with each new pair after it is stored. */
  onRotated?: (pair: CertificatePair) => void;
  logger?: KubeletLogger;
  /** Current time in epoch milliseconds, for validity and deadline checks (default Date.now). */
  now?: () => number;
  /** The clock rotation waits on (default: the system clock). */
  clock?: Clock;
  /** A number in [0, 1) that picks the rotation deadline within 70–90 % of the validity (default Math.random). */
  random?: () => number;
  /** How long one CSR may wait for its certificate. Default 15 min (upstream's rotation wait). */
  certificateWaitMs?: number;
  pollIntervalMs?: number;
  /** Waits between CSR polls; replaces `clock` for those waits when given. */
  sleep?: (ms: number) => Promise<void>;
}

/** Upstream's rotation backoff: 2 s doubling, 5 steps; then the loop starts over. */
const BACKOFF_MS = [2_000, 4_000, 8_000, 16_000, 32_000];
/** Re-check at least this often, so a clock jump or template change is noticed. */
const MAX_WAIT_MS = 60 * 60 * 1000;

function sameMembers(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}

/**
 * k8s.io/client-go/util/certificate's manager: keeps a current certificate from the store and
 * renews it at the rotation deadline (or at once when it no longer matches the template) with a new
 * key and a new CSR. `rotateIfDue()` is one step, for tests with an injected clock; `start()` runs
 * the loop on timers.
 */
export class CertificateManager {
  private currentPair: CertificatePair | undefined;
  private deadline: number | undefined;
  private timer: unknown;
  private stopped = false;
  private failures = 0;
  /** The current pair came from `bootstrap`: rotate it now, whatever its deadline. */
  private forceRotation = false;
  /** Whether the API server answered the last CSR as a server does (upstream's serverHealth). */
  private serverAnswered = false;

  constructor(private readonly options: CertificateManagerOptions) {}

  private clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Loads the stored pair, or else stores the bootstrap pair and makes it current (upstream's
   * getCurrentCertificateOrBootstrap); call before current()/rotateIfDue().
   */
  async load(): Promise<CertificatePair | undefined> {
    const stored = await this.options.store.current().catch((error) => {
      this.options.logger?.warn(
        { err: String(error), name: this.options.name },
        'could not load stored certificate',
      );
      return undefined;
    });
    this.deadline = undefined;
    this.forceRotation = false;
    this.currentPair = stored;
    const { bootstrap } = this.options;
    if (bootstrap && (!stored || stored.notAfterMs <= this.now())) {
      this.currentPair = parseCertificatePair(bootstrap.certPem, bootstrap.keyPem, 'bootstrap certificate');
      this.forceRotation = true;
      await this.options.store
        .update(bootstrap.certPem, bootstrap.keyPem)
        .catch((error) =>
          this.options.logger?.warn(
            { err: String(error), name: this.options.name },
            'unable to set the cert/key pair to the bootstrap certificate',
          ),
        );
    }
    return this.currentPair;
  }

  /**
   * Whether the API server is believed alive, as upstream's ServerHealthy: false until a CSR was
   * answered; true once a certificate was issued, or when the last CSR was refused with 401, 403
   * or 404 (a working server turning the credentials away); false when it failed otherwise
   * (unreachable, a 5xx). The kubelet exits on an expired certificate only while this holds.
   */
  serverHealthy(): boolean {
    return this.serverAnswered;
  }

  /** The pair in use now; undefined before load() found or stored one. */
  current(): CertificatePair | undefined {
    return this.currentPair;
  }

  /** Whether the current certificate still says what the template asks (upstream's certSatisfiesTemplate). */
  private satisfiesTemplate(template: CertificateTemplate): boolean {
    const pair = this.currentPair;
    if (!pair) return false;
    const subject = pair.leaf.subject.split('\n');
    if (!subject.includes(`CN=${template.commonName}`)) return false;
    const organizations = subject.filter((line) => line.startsWith('O=')).map((line) => line.slice(2));
    if (!sameMembers(organizations, template.organization)) return false;
    const sans = (pair.leaf.subjectAltName ?? '').split(', ').filter(Boolean);
    const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
    const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
    return sameMembers(dns, template.dnsNames) && sameMembers(ips, template.ipAddresses);
  }

  /** The moment the next rotation is due (now when there is no usable certificate). */
  nextRotationDeadline(): number {
    const template = this.options.template();
    if (this.forceRotation || !this.currentPair || (template && !this.satisfiesTemplate(template)))
      return this.now();
    if (this.deadline === undefined) {
      const { notBeforeMs, notAfterMs } = this.currentPair;
      this.deadline = rotationDeadline(notBeforeMs, notAfterMs, this.options.random);
      this.options.logger?.info(
        {},
        `${this.options.name}: Certificate expiration is ${new Date(notAfterMs).toISOString()}, rotation deadline is ${new Date(this.deadline).toISOString()}`,
      );
    }
    return this.deadline;
  }

  /** Rotates when the deadline has passed; true when a new certificate was stored. */
  async rotateIfDue(): Promise<boolean> {
    if (this.options.template() === undefined) return false;
    if (this.nextRotationDeadline() > this.now()) return false;
    await this.rotate();
    return true;
  }

  /** A new key, a CSR for the template, the signed certificate stored and made current. */
  async rotate(): Promise<CertificatePair> {
    const template = this.options.template();
    if (!template) throw new Error(`${this.options.name}: no certificate template yet`);
    this.options.logger?.info({ name: this.options.name }, 'Rotating certificates');
    const keyPem = generatePrivateKeyPem();
    const requestPem = await makeCertificateRequestPem(keyPem, template);
    const valid = this.currentPair && this.currentPair.notAfterMs > this.now() ? this.currentPair : undefined;
    if (this.currentPair && !valid)
      this.options.logger?.warn({ name: this.options.name }, 'Current certificate is expired');
    const api = this.options.api(valid);
    const csr = await requestCertificate(api, {
      requestPem,
      signerName: this.options.signerName,
      usages: this.options.usages,
      expirationSeconds: this.options.requestedDurationSeconds,
    }).catch((error: unknown) => {
      this.serverAnswered = [401, 403, 404].includes(apiStatusCode(error) ?? 0);
      throw error;
    });
    const certPem = await waitForCertificate(api, csr, {
      timeoutMs: this.options.certificateWaitMs ?? 15 * 60 * 1000,
      pollIntervalMs: this.options.pollIntervalMs,
      now: () => this.now(),
      sleep: this.options.sleep,
    });
    const pair = await this.options.store.update(certPem, keyPem);
    this.currentPair = pair;
    this.serverAnswered = true;
    this.deadline = undefined;
    this.forceRotation = false;
    this.options.onRotated?.(pair);
    return pair;
  }

  /** Runs rotation on timers until stop(): waits for the deadline, rotates, backs off on errors. */
  start(): void {
    this.stopped = false;
    this.options.logger?.info({ name: this.options.name }, 'Certificate rotation is enabled');
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock().setTimeout(() => void this.tick(), Math.max(0, Math.min(delayMs, MAX_WAIT_MS)));
    unrefTimer(this.timer);
  }

  private async tick(): Promise<void> {
    try {
      await this.rotateIfDue();
      this.failures = 0;
      const template = this.options.template();
      if (!template) {
        // Without a template (no node addresses yet) look again soon.
        this.schedule(1_000);
        return;
      }
      const waitMs = this.nextRotationDeadline() - this.now();
      this.options.logger?.info(
        {},
        `${this.options.name}: Waiting ${Math.round(waitMs / 1000)}s for next certificate rotation`,
      );
      this.schedule(waitMs);
    } catch (error) {
      const wait = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] as number;
      this.failures++;
      this.options.logger?.warn(
        { name: this.options.name, err: String((error as Error).message ?? error), retryInMs: wait },
        'Failed while requesting a signed certificate from the control plane',
      );
      this.schedule(wait);
    }
  }

  /** Ends the rotation loop start() began: clears the pending timer; a rotation already under way still finishes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock().clearTimeout(this.timer);
  }
}
