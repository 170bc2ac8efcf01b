import { parseQuantity } from '@nodeagent/primitives';

const DECIMAL_SUFFIXES: [number, string][] = [
  [18, 'E'],
  [15, 'P'],
  [12, 'T'],
  [9, 'G'],
  [6, 'M'],
  [3, 'k'],
  [0, ''],
  [-3, 'm'],
  [-6, 'u'],
  [-9, 'n'],
];
const BINARY_SUFFIXES = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];

/** The value in nanounits as a BigInt (what a Quantity holds exactly, to 1n). */
function nanos(text: string): bigint {
  return valueToNanos(parseQuantity(text));
}

/** Whole values exactly (bytes beyond 2^53 / 1e9 would lose digits multiplied as floats). */
function valueToNanos(value: number): bigint {
  return Number.isInteger(value) ? BigInt(value) * 1_000_000_000n : BigInt(Math.round(value * 1e9));
}

function decimalText(n: bigint): string {
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  if (abs === 0n) return '0';
  for (const [exponent, suffix] of DECIMAL_SUFFIXES) {
    const unit = 10n ** BigInt(exponent + 9);
    if (abs % unit === 0n) return `${sign}${abs / unit}${suffix}`;
  }
  return `${sign}${abs}n`;
}

/**
 * A quantity as upstream's Quantity.String() prints it, which is how the real server quotes
 * values in validation messages: the format of the text it was given (binary suffixes stay
 * binary while the value is a whole number of bytes, otherwise decimal SI) with the largest
 * suffix that keeps the number whole ("1000m" → "1", "0.5" → "500m", "1024Ki" → "1Mi").
 * Text that does not parse is returned as it is.
 */
export function canonicalQuantity(text: unknown): string {
  const raw = typeof text === 'number' ? String(text) : String(text ?? '');
  let value: bigint;
  try {
    value = nanos(raw);
  } catch {
    return raw;
  }
  return formatNanos(value, /(Ki|Mi|Gi|Ti|Pi|Ei)$/.test(raw));
}

/** A value in base units as Quantity text, BinarySI when `binary` and whole bytes, else DecimalSI. */
export function quantityFromValue(value: number, binary: boolean): string {
  return formatNanos(valueToNanos(value), binary);
}

function formatNanos(value: bigint, binary: boolean): string {
  const unit = 1_000_000_000n;
  if (binary && value % unit === 0n) {
    const bytes = value / unit;
    const sign = bytes < 0n ? '-' : '';
    let abs = bytes < 0n ? -bytes : bytes;
    if (abs === 0n) return '0';
    let power = 0;
    while (power < BINARY_SUFFIXES.length && abs % 1024n === 0n) {
      abs /= 1024n;
      power++;
    }
    return power === 0 ? `${sign}${abs}` : `${sign}${abs}${BINARY_SUFFIXES[BINARY_SUFFIXES.length - power]}`;
  }
  return decimalText(value);
}

/** Numeric comparison of two quantities (-1, 0, 1); NaN-safe: unparsable text compares as 0. */
export function compareQuantities(a: unknown, b: unknown): number {
  const value = (q: unknown): number => {
    try {
      return parseQuantity(typeof q === 'number' ? q : String(q ?? ''));
    } catch {
      return 0;
    }
  };
  const x = value(a);
  const y = value(b);
  return x === y ? 0 : x < y ? -1 : 1;
}
