import { type Clock, formatDuration, systemClock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import type { CertificateManager } from './certificate-manager';

/** How often upstream's rotating transport looks at the client certificate. */
const CHECK_PERIOD_MS = 10_000;

/** What the watch reads and how it ends the process. */
export interface ClientCertificateExpiryOptions {
  manager: Pick<CertificateManager, 'current' | 'serverHealthy'>;
  /** How long the kubelet may go without a valid client certificate (upstream's exitAfter, 5 min). */
  exitAfterMs: number;
  logger: KubeletLogger;
  /** Ends the process (default process.exit). */
  exit?: (code: number) => void;
  /** The clock its checks run on and read the time from (default: the system clock). */
  clock?: Clock;
}

/**
 * The exit of upstream's rotating transport (UpdateTransport with exitAfter): every 10 s the
 * client certificate is looked at, and once there has been no valid one (none stored, or expired)
 * for `exitAfterMs` while the API server answers, the kubelet logs it and exits with 1, so that its
 * supervisor starts it again and TLS bootstrapping lays down new credentials. While the server does
 * not answer it only logs, every check, that a restart may be needed. Returns what stops it.
 */
export function watchClientCertificateExpiry(options: ClientCertificateExpiryOptions): () => void {
  const { manager, exitAfterMs, logger, exit = (code) => process.exit(code) } = options;
  const clock = options.clock ?? systemClock;
  let lastAvailable = clock.now();
  return everyOn(clock, CHECK_PERIOD_MS, () => {
    const now = clock.now();
    const pair = manager.current();
    if (pair && pair.notAfterMs > now) {
      lastAvailable = now;
      return;
    }
    if (now <= lastAvailable + exitAfterMs) return;
    const fields = {
      lastCertificateAvailabilityTime: new Date(lastAvailable).toISOString(),
      shutdownThreshold: formatDuration(exitAfterMs),
    };
    if (!manager.serverHealthy()) {
      logger.error(
        fields,
        'No valid client certificate is found but the server is not responsive. A restart may be necessary to retrieve new initial credentials.',
      );
      return;
    }
    logger.error(fields, 'No valid client certificate is found and the server is responsive, exiting.');
    exit(1);
  });
}
