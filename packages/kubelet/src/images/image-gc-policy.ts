import { parseDuration } from '@nodeagent/primitives';
import type { KubeletConfiguration } from '../config/kubelet-configuration';

/** Upstream ImageGCPolicy. */
export interface ImageGCPolicy {
  /** At or above this image filesystem usage (%), GC runs. */
  highThresholdPercent: number;
  /** GC frees down to this usage (%). */
  lowThresholdPercent: number;
  /** Images younger than this (since first seen) are never removed. */
  minAgeMs: number;
  /** Images unused for longer than this are removed whatever the usage; 0 disables. */
  maxAgeMs: number;
}

/** Upstream ImageGCPeriod: how often image GC runs. */
export const imageGCPeriodMs = 5 * 60_000;

/** The image GC thresholds of a KubeletConfiguration, with its Go durations turned into milliseconds. */
export function imageGCPolicyFromConfig(
  config: Pick<
    KubeletConfiguration,
    'imageGCHighThresholdPercent' | 'imageGCLowThresholdPercent' | 'imageMinimumGCAge' | 'imageMaximumGCAge'
  >,
): ImageGCPolicy {
  return {
    highThresholdPercent: config.imageGCHighThresholdPercent,
    lowThresholdPercent: config.imageGCLowThresholdPercent,
    minAgeMs: parseDuration(config.imageMinimumGCAge),
    maxAgeMs: parseDuration(config.imageMaximumGCAge),
  };
}
