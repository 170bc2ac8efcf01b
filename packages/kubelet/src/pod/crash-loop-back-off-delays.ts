import { parseDuration } from '@nodeagent/primitives';
import type { KubeletConfiguration } from '../config/configuration-fields';
import { featureGateEnabled } from '../config/feature-gate-rules';

/** The first delay and the cap of the kubelet's container restart back-off, in milliseconds. */
export interface CrashLoopBackOffDelays {
  initialMs: number;
  maxMs: number;
}

/** Upstream's initialCrashLoopBackOff and MaxCrashLoopBackOff. */
const standard: CrashLoopBackOffDelays = { initialMs: 10_000, maxMs: 300_000 };
/** Upstream's reducedInitialCrashLoopBackOff and reducedMaxCrashLoopBackOff (alpha gate ReduceDefaultCrashLoopBackOffDecay). */
const reduced: CrashLoopBackOffDelays = { initialMs: 1_000, maxMs: 60_000 };

/**
 * Upstream v1.36's newCrashLoopBackOff: 10 s doubling to 5 min; 1 s to 1 min with
 * ReduceDefaultCrashLoopBackOffDecay; and with KubeletCrashLoopBackOffMax (beta, on) the
 * configured crashLoopBackOff.maxContainerRestartPeriod caps it, taking precedence over the
 * reduced cap, and a cap below the first delay becomes the first delay too. Validation has kept
 * the period between 1 s and 300 s. A configuration not defaulted with the gate's default (a
 * library caller's) leaves the cap where the gates put it.
 */
export function crashLoopBackOffDelays(config: KubeletConfiguration): CrashLoopBackOffDelays {
  const gates = config.featureGates;
  const delays = featureGateEnabled(gates, 'ReduceDefaultCrashLoopBackOffDecay') ? reduced : standard;
  const period = config.crashLoopBackOff.maxContainerRestartPeriod;
  if (!featureGateEnabled(gates, 'KubeletCrashLoopBackOffMax') || period === undefined) return { ...delays };
  const maxMs = parseDuration(period);
  return { initialMs: Math.min(delays.initialMs, maxMs), maxMs };
}

/**
 * How long after a restart the next failure starts the back-off again at its first delay:
 * upstream's kubelet fixes it at 600 s whatever the cap (its HasExpiredFunc), where
 * flowcontrol's default would be twice the cap.
 */
export const crashLoopBackOffExpiryMs = 600_000;
