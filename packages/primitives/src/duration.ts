import { InvalidDurationError } from './errors';

// Go's time.ParseDuration units. Both micro signs are accepted, as Go does (U+00B5 and U+03BC).
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration ("1m30s", "100ms", "2h45m", "-1.5h", "0") into milliseconds, with
 * time.ParseDuration's rules: an optional sign, then one or more number+unit parts; a bare
 * number is an error except "0". Throws InvalidDurationError naming `field`.
 */
export function parseDuration(text: string, field = 'duration'): number {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new InvalidDurationError(field, text);
  let total = 0;
  let pos = 0;
  while (pos < rest.length) {
    PART.lastIndex = pos;
    const match = PART.exec(rest);
    if (!match) throw new InvalidDurationError(field, text);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    pos = PART.lastIndex;
  }
  return sign * total;
}

/** Formats milliseconds the way Go's Duration.String does ("1m0s", "100ms", "1h2m5s", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${trim(rest)}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  let out = sign;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trim(rest / 1000)}s`;
}

/** Drops float noise (0.30000000000000004) below a nanosecond's worth of digits. */
function trim(n: number): string {
  return String(Number(n.toFixed(6)));
}
