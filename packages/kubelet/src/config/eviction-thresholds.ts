import { float32Fraction, parseQuantity, percentageOf } from '@nodeagent/primitives';
import { InvalidConfigError } from '../errors';

/** Eviction signals the kubelet understands (upstream pkg/kubelet/eviction/api). */
export const evictionSignals = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
  'allocatableMemory.available',
  'pid.available',
] as const;
/** An eviction signal upstream's kubelet knows, e.g. `memory.available`: the key of an evictionHard/evictionSoft entry. */
export type EvictionSignal = (typeof evictionSignals)[number];

/** A threshold is either an absolute quantity (bytes, inodes, pids) or a fraction of capacity. */
export type ThresholdValue = { quantity: number } | { percentage: number };

/** One eviction threshold: the node is under pressure when `signal` falls below `value`. */
export interface EvictionThreshold {
  signal: EvictionSignal;
  /** Upstream only supports "<" for eviction signals. */
  operator: 'LessThan';
  value: ThresholdValue;
}

/** Parses an evictionHard/evictionSoft map ({"memory.available": "100Mi", "nodefs.available": "10%"}). */
export function parseEvictionThresholds(
  map: Record<string, string>,
  field = 'evictionHard',
): EvictionThreshold[] {
  const out: EvictionThreshold[] = [];
  for (const [signal, raw] of Object.entries(map)) {
    if (!(evictionSignals as readonly string[]).includes(signal)) {
      throw new InvalidConfigError(`${field}[${signal}]`, signal, 'unknown eviction signal');
    }
    out.push({
      signal: signal as EvictionSignal,
      operator: 'LessThan',
      value: parseThresholdValue(raw, `${field}[${signal}]`),
    });
  }
  return out;
}

export function parseThresholdValue(raw: string, field: string): ThresholdValue {
  const text = raw.trim();
  if (text.endsWith('%')) {
    const percent = Number(text.slice(0, -1));
    if (!Number.isFinite(percent) || percent < 0 || percent > 100 || text.length === 1) {
      throw new InvalidConfigError(field, raw, 'percentage must be between 0% and 100%');
    }
    return { percentage: float32Fraction(percent) };
  }
  let quantity: number;
  try {
    quantity = parseQuantity(text, field);
  } catch {
    throw new InvalidConfigError(field, raw, 'not a quantity such as "100Mi" or a percentage such as "10%"');
  }
  if (quantity < 0) throw new InvalidConfigError(field, raw, 'must not be negative');
  return { quantity };
}

/** Upstream GetThresholdQuantity: a percentage becomes a quantity of the observed capacity. */
export function thresholdQuantity(value: ThresholdValue, capacity: number): number {
  return 'quantity' in value ? value.quantity : percentageOf(capacity, value.percentage);
}

/** Is the observed value below the threshold? `capacity` is needed for percentage thresholds. */
export function thresholdMet(threshold: EvictionThreshold, available: number, capacity: number): boolean {
  return available < thresholdQuantity(threshold.value, capacity);
}
