import { goQuote } from './go-quote';

/** Go's strconv.ParseInt(text, 10, bitSize): the value, or the error Go prints for it. */
export type GoParseIntResult = { value: bigint } | { error: string };

/**
 * Go's strconv.ParseInt with base 10: an optional sign, then decimal digits only (no spaces,
 * underscores or trailing newline). A failure carries Go's text, e.g. `strconv.ParseInt:
 * parsing "abc": invalid syntax` or `… "9999999999": value out of range` (a value past the
 * bit size, reported as soon as the digits overflow, as Go does).
 */
export function goParseInt(text: string, bitSize: 32 | 64): GoParseIntResult {
  const fail = (reason: string) => ({ error: `strconv.ParseInt: parsing ${goQuote(text)}: ${reason}` });
  const negative = text.startsWith('-');
  const digits = text.startsWith('+') || negative ? text.slice(1) : text;
  if (digits === '') return fail('invalid syntax');
  const maxUnsigned = (1n << BigInt(bitSize)) - 1n;
  let value = 0n;
  for (const char of digits) {
    if (char < '0' || char > '9') return fail('invalid syntax');
    value = value * 10n + BigInt(char.charCodeAt(0) - 48);
    if (value > maxUnsigned) return fail('value out of range');
  }
  const cutoff = 1n << BigInt(bitSize - 1);
  if (negative ? value > cutoff : value >= cutoff) return fail('value out of range');
  return { value: negative ? -value : value };
}
