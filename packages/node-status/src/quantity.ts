import { InvalidQuantityError } from './errors';

// Resource quantities as Kubernetes writes them. CPU is handled in millicores, everything else
// in whole units (bytes, pods); both fit a JS number for any real machine.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };

const QUANTITY = /^([+-]?[0-9]*\.?[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|k|M|G|T|P|E|m)?$/;

/** Parses a quantity to its value in base units (e.g. "1Gi" → 1073741824, "500m" → 0.5). */
export function parseQuantity(field: string, text: string): number {
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new InvalidQuantityError(field, text);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  let value: number;
  if (suffix in BINARY) value = n * BINARY[suffix]!;
  else if (suffix in DECIMAL) value = n * DECIMAL[suffix]!;
  else value = n * 10 ** Number(suffix.slice(1));
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidQuantityError(field, text, 'must be a non-negative quantity');
  return value;
}

/** Millicores from a CPU quantity ("2" → 2000, "250m" → 250), rounded up like the API does. */
export function parseMilliCpu(field: string, text: string): number {
  return Math.ceil(Math.round(parseQuantity(field, text) * 1e6) / 1e3);
}

/** Canonical CPU text: whole cores when possible, else millicores ("2", "1900m"). */
export function formatMilliCpu(milli: number): string {
  const m = Math.max(0, Math.round(milli));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Canonical BinarySI text of a byte count: the largest binary suffix that divides it ("8Gi", "1023Ki", "1000"). */
export function formatBinary(bytes: number): string {
  let v = Math.max(0, Math.floor(bytes));
  if (v === 0) return '0';
  for (const suffix of ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi']) {
    if (v % 1024 !== 0 || suffix === 'Pi') return `${v}${suffix}`;
    v /= 1024;
  }
  return `${v}Ei`;
}

/** Plain integer text (pods, hugepages counts). */
export function formatCount(n: number): string {
  return String(Math.max(0, Math.floor(n)));
}
