import { ParseError } from '../errors';

// Go's time.ParseDuration units, which metav1.Duration uses in the KubeletConfiguration file.
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses a Go duration string ("1m0s", "100ms", "2h45m", "-1.5h") into milliseconds. */
export function parseDuration(text: string, field = 'duration'): number {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new ParseError(field, text, 'not a duration such as "10s" or "1m0s"');
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < rest.length) {
    const start = part.lastIndex;
    const match = part.exec(rest);
    if (!match || match.index !== start) {
      throw new ParseError(field, text, 'not a duration such as "10s" or "1m0s"');
    }
    total += Number(match[1]) * unitMs[match[2]!]!;
  }
  return sign * total;
}

/** Formats milliseconds the way Go's Duration.String does ("1m0s", "100ms", "5m0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let out = sign;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${Number(seconds.toFixed(3))}s`;
}
