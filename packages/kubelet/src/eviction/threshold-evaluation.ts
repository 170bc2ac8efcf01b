import { thresholdQuantity } from '../config/eviction-thresholds';
import type { ConfiguredThreshold } from './eviction-config';
import type { SignalObservations } from './signal-observations';
import { type PressureCondition, signalToNodeCondition } from './signal-resources';

/** A threshold's identity across passes: signal plus whether it is the hard or the soft one. */
export function thresholdKey(threshold: ConfiguredThreshold): string {
  return `${threshold.signal}/${threshold.gracePeriodMs === 0 ? 'hard' : 'soft'}`;
}

/**
 * Upstream thresholdsMet: the thresholds whose signal is below the limit. With
 * enforceMinReclaim the limit is raised by the minimum reclaim, which is how a threshold met
 * earlier stays met until that much more is free.
 */
export function thresholdsMet(
  thresholds: readonly ConfiguredThreshold[],
  observations: SignalObservations,
  enforceMinReclaim: boolean,
): ConfiguredThreshold[] {
  return thresholds.filter((threshold) => {
    const observed = observations.get(threshold.signal);
    if (!observed) return false;
    let limit = thresholdQuantity(threshold.value, observed.capacity);
    if (enforceMinReclaim && threshold.minReclaim)
      limit += thresholdQuantity(threshold.minReclaim, observed.capacity);
    return observed.available < limit;
  });
}

/** Union of two threshold lists, keeping the first occurrence of each. */
export function mergeThresholds(
  a: readonly ConfiguredThreshold[],
  b: readonly ConfiguredThreshold[],
): ConfiguredThreshold[] {
  const seen = new Set<string>();
  const out: ConfiguredThreshold[] = [];
  for (const threshold of [...a, ...b]) {
    const key = thresholdKey(threshold);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(threshold);
  }
  return out;
}

/** Upstream thresholdsFirstObservedAt: keeps the first time each still-met threshold was seen. */
export function thresholdsFirstObservedAt(
  thresholds: readonly ConfiguredThreshold[],
  previous: ReadonlyMap<string, number>,
  now: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const threshold of thresholds) {
    const key = thresholdKey(threshold);
    out.set(key, previous.get(key) ?? now);
  }
  return out;
}

/** Upstream thresholdsMetGracePeriod: the met thresholds whose grace period has run out. */
export function thresholdsMetGracePeriod(
  thresholds: readonly ConfiguredThreshold[],
  firstObservedAt: ReadonlyMap<string, number>,
  now: number,
): ConfiguredThreshold[] {
  return thresholds.filter((threshold) => {
    const since = firstObservedAt.get(thresholdKey(threshold));
    return since !== undefined && now - since >= threshold.gracePeriodMs;
  });
}

/** Upstream nodeConditions: the pressure conditions the met thresholds imply. */
export function nodeConditionsFor(thresholds: readonly ConfiguredThreshold[]): Set<PressureCondition> {
  return new Set(thresholds.map((threshold) => signalToNodeCondition[threshold.signal]));
}

/** Upstream nodeConditionsLastObservedAt: now for the conditions seen this pass, the old time otherwise. */
export function nodeConditionsLastObservedAt(
  conditions: ReadonlySet<PressureCondition>,
  previous: ReadonlyMap<PressureCondition, number>,
  now: number,
): Map<PressureCondition, number> {
  const out = new Map(previous);
  for (const condition of conditions) out.set(condition, now);
  return out;
}

/**
 * Upstream nodeConditionsObservedSince: a condition stays on until it has not been observed for
 * the pressure transition period, so the node does not flap in and out of pressure.
 */
export function nodeConditionsObservedSince(
  lastObservedAt: ReadonlyMap<PressureCondition, number>,
  period: number,
  now: number,
): Set<PressureCondition> {
  const out = new Set<PressureCondition>();
  // A condition observed in this very pass is on even with a zero period.
  for (const [condition, at] of lastObservedAt) if (at === now || now - at < period) out.add(condition);
  return out;
}
