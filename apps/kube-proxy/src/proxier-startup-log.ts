import type { Logger } from 'pino';

/** Upstream v1.35+'s start-up error line in ipvs mode (KEP-5495), word for word. */
export const IPVS_DEPRECATION_MESSAGE =
  "The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.";

/**
 * What upstream's createProxier logs as it picks the proxier: "Using <mode> Proxier", and in
 * ipvs mode the deprecation at error level (upstream also records it as a Warning event with
 * reason IPVSDeprecation on the Node; this proxy records no events).
 */
export function logProxierChoice(mode: string, log: Pick<Logger, 'info' | 'error'>): void {
  log.info(`Using ${mode} Proxier`);
  if (mode === 'ipvs') log.error(IPVS_DEPRECATION_MESSAGE);
}
