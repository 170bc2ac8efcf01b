import { InvalidFieldError } from '../../errors';

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** nft's time syntax (`3h`, `1m30s`, `250ms`, a bare number of seconds) in milliseconds. */
export function parseNftTime(field: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const pattern = /(\d+)(ms|d|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length)
    throw new InvalidFieldError(field, text, 'is not an nft time (e.g. 3h, 1m30s, 250ms)');
  return total;
}

/**
 * Milliseconds back to nft syntax, in whole seconds when exact (`10800s`, as the nft client's
 * JSON reader spells it), else with units (`1s500ms`).
 */
export function formatNftTime(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  let rest = ms;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
