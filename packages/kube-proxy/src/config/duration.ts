import { InvalidFieldError } from '../errors';

// Go's time.Duration string syntax ("1s", "1m30s", "500ms", "1h0m0s"), which is what
// KubeProxyConfiguration files and upstream flags use for every period.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Parses a Go duration string into milliseconds. */
export function parseDuration(field: string, text: string): number {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new InvalidFieldError(field, text, 'not a duration (e.g. "1s", "1m30s")');
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) throw new InvalidFieldError(field, text, 'not a duration (e.g. "1s", "1m30s")');
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a time.Duration ("1s", "1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out = '';
  if (rest < 1000) {
    out = `${trimNumber(rest)}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = rest / 1000;
    if (h > 0) out += `${h}h`;
    if (h > 0 || m > 0) out += `${m}m`;
    out += `${trimNumber(s)}s`;
  }
  return neg ? `-${out}` : out;
}

function trimNumber(n: number): string {
  return String(Number(n.toFixed(6)));
}
