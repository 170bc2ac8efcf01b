import { InvalidConfigError } from './errors';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Go-style duration ("10s", "5m0s", "1m30s", "500ms") or milliseconds → milliseconds. */
export function parseDuration(field: string, value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new InvalidConfigError(field, value, 'must be >= 0 ms');
    return value;
  }
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (value === '0') return 0;
  if (matched === 0 || matched !== value.length) {
    throw new InvalidConfigError(field, value, 'not a duration like "10s" or "5m0s"');
  }
  return total;
}
