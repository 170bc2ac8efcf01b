import { InvalidQuantityError } from './errors';

// Kubernetes resource.Quantity text: <sign?><number><suffix>, where the suffix is binary SI
// (Ki..Ei), decimal SI (n u m "" k M G T P E) or a decimal exponent (e3, E-2). As upstream, no
// white space is allowed anywhere, and "E" alone is exa while "E" followed by digits is an exponent.
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/**
 * A quantity's value in base units (cores, bytes, counts): "1Gi" → 1073741824, "250m" → 0.25,
 * "-1.5k" → -1500, "1e3" → 1000. A number is taken as already parsed. Throws
 * InvalidQuantityError naming `field`.
 */
export function parseQuantity(text: string | number, field = 'quantity'): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) throw new InvalidQuantityError(field, text, 'not a finite number');
    return text;
  }
  const match = QUANTITY.exec(text);
  if (!match) throw new InvalidQuantityError(field, text);
  const base = Number(match[1]);
  const value =
    match[2] !== undefined
      ? base * 10 ** Number(match[2])
      : base * (BINARY[match[3]!] ?? DECIMAL[match[3] ?? '']!);
  if (!Number.isFinite(value)) throw new InvalidQuantityError(field, text, 'out of range');
  return value;
}

/**
 * The value in thousandths, rounded away from zero like Quantity.MilliValue ("100m" → 100,
 * "1" → 1000, "1n" → 1). Rounding to nanos first drops float noise (0.1 * 1e3 = 100.00000000000001).
 */
export function milliValue(text: string | number, field = 'quantity'): number {
  const value = parseQuantity(text, field);
  const nanos = Math.round(Math.abs(value) * 1e9);
  const milli = Math.ceil(nanos / 1e6);
  return value < 0 ? -milli : milli;
}

/** Canonical CPU text: whole cores when possible, else millicores ("2", "1900m"); below 0 is 0. */
export function formatMilliCpu(milli: number): string {
  const m = Math.max(0, Math.round(milli));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/**
 * Canonical BinarySI text of a byte count: the largest binary suffix that divides it ("8Gi",
 * "1023Ki", "1000"); below 0 is "0".
 */
export function formatBinary(bytes: number): string {
  let v = Math.max(0, Math.floor(bytes));
  if (v === 0) return '0';
  for (const suffix of ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi']) {
    if (v % 1024 !== 0 || suffix === 'Pi') return `${v}${suffix}`;
    v /= 1024;
  }
  return `${v}Ei`;
}

/** Plain integer text (pods, hugepages counts); below 0 is "0". */
export function formatCount(n: number): string {
  return String(Math.max(0, Math.floor(n)));
}

/**
 * A percentage as upstream's eviction thresholds hold it (`ParsePercentage`: parsed as a
 * float32, divided by 100 in float32), and `GetThresholdQuantity`'s amount of `capacity`: the
 * product in float64, truncated. "10%" is 0.10000000149… here, not 0.1: on a 264212084Ki disk
 * upstream's allocatable is 243497856212 bytes, 402 less than with an exact tenth.
 */
export function float32Fraction(percent: number): number {
  return Math.fround(Math.fround(percent) / 100);
}

/** Upstream GetThresholdQuantity for a percentage threshold: trunc(capacity × fraction). */
export function percentageOf(capacity: number, fraction: number): number {
  return Math.trunc(capacity * fraction);
}
