import { parseDuration } from '@nodeagent/primitives';
import {
  type EvictionThreshold,
  parseEvictionThresholds,
  parseThresholdValue,
  type ThresholdValue,
} from '../config/eviction-thresholds';
import type { KubeletConfiguration } from '../config/kubelet-configuration';
import { InvalidConfigError } from '../errors';

/** A threshold as the eviction manager applies it (upstream evictionapi.Threshold). */
export interface ConfiguredThreshold extends EvictionThreshold {
  /** 0 for hard thresholds: act on the first observation. */
  gracePeriodMs: number;
  /** Once met, keep reclaiming until this much beyond the threshold is available. */
  minReclaim?: ThresholdValue;
}

/** The eviction manager's thresholds and periods, parsed from KubeletConfiguration by evictionSettingsFromConfig. */
export interface EvictionSettings {
  /** Hard and soft thresholds, each with its grace period and minimum reclaim. */
  thresholds: ConfiguredThreshold[];
  /** evictionPressureTransitionPeriod: how long a pressure condition outlives its last observation. */
  pressureTransitionPeriodMs: number;
  /** evictionMaxPodGracePeriod: the most a soft eviction grants a pod (seconds). */
  maxPodGracePeriodSeconds: number;
}

/** Whether the threshold is hard (evictionHard: no grace period, the pod is killed at once) rather than soft. */
export function isHardThreshold(threshold: ConfiguredThreshold): boolean {
  return threshold.gracePeriodMs === 0;
}

/** Upstream ParseThresholdConfig: evictionHard, evictionSoft (+ grace periods) and evictionMinimumReclaim. */
export function evictionSettingsFromConfig(
  config: Pick<
    KubeletConfiguration,
    | 'evictionHard'
    | 'evictionSoft'
    | 'evictionSoftGracePeriod'
    | 'evictionMinimumReclaim'
    | 'evictionPressureTransitionPeriod'
    | 'evictionMaxPodGracePeriod'
  >,
): EvictionSettings {
  const minReclaim = new Map<string, ThresholdValue>();
  for (const [signal, raw] of Object.entries(config.evictionMinimumReclaim)) {
    // Validates the signal name the same way the thresholds do.
    parseEvictionThresholds({ [signal]: '0' }, 'evictionMinimumReclaim');
    minReclaim.set(signal, parseThresholdValue(raw, `evictionMinimumReclaim[${signal}]`));
  }
  const withReclaim = (threshold: EvictionThreshold, gracePeriodMs: number): ConfiguredThreshold => {
    const reclaim = minReclaim.get(threshold.signal);
    return reclaim ? { ...threshold, gracePeriodMs, minReclaim: reclaim } : { ...threshold, gracePeriodMs };
  };
  const hard = parseEvictionThresholds(config.evictionHard, 'evictionHard')
    // Upstream: a hard threshold of 0 (or 0%) is how a default is switched off.
    .filter((t) => ('quantity' in t.value ? t.value.quantity : t.value.percentage) > 0)
    .map((t) => withReclaim(t, 0));
  const soft = parseEvictionThresholds(config.evictionSoft, 'evictionSoft').map((t) => {
    const grace = config.evictionSoftGracePeriod[t.signal];
    if (grace === undefined)
      throw new InvalidConfigError(
        `evictionSoftGracePeriod[${t.signal}]`,
        undefined,
        'a soft threshold needs a grace period',
      );
    const ms = parseDuration(grace);
    if (ms <= 0)
      throw new InvalidConfigError(`evictionSoftGracePeriod[${t.signal}]`, grace, 'must be greater than 0');
    return withReclaim(t, ms);
  });
  return {
    thresholds: [...hard, ...soft],
    pressureTransitionPeriodMs: parseDuration(config.evictionPressureTransitionPeriod),
    maxPodGracePeriodSeconds: config.evictionMaxPodGracePeriod,
  };
}
