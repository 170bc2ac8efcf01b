import { createHealthzServer, type Kubelet, type KubeletLogger, listen } from '@nodeagent/kubelet';
import { type Clock, goListenError, keepTrying } from '@nodeagent/primitives';

/** Upstream's pause between two attempts to start the healthz server (wait.UntilWithContext). */
export const HEALTHZ_RETRY_MS = 5_000;

/** Where healthz listens: healthzBindAddress:healthzPort. */
export interface HealthzSettings {
  healthzBindAddress: string;
  healthzPort: number;
}

/**
 * The healthz endpoint as upstream serves it: a port that cannot be bound is logged ("Failed to
 * start healthz server", Go's error) and tried again every 5 s while the kubelet runs on; it never
 * stops the kubelet. close() ends the attempts and closes the server if one started.
 */
export function serveHealthz(
  kubelet: Kubelet,
  { healthzBindAddress: address, healthzPort: port }: HealthzSettings,
  logger: KubeletLogger,
  clock?: Clock,
): { close(): Promise<void> } {
  const attempts = keepTrying(() => listen(createHealthzServer(kubelet), port, address), {
    intervalMs: HEALTHZ_RETRY_MS,
    clock,
    onError: (error) =>
      logger.error(
        { err: goListenError(error, address, port), field: 'healthzPort' },
        'Failed to start healthz server',
      ),
  });
  return {
    async close() {
      await (await attempts.stop())?.close();
    },
  };
}
