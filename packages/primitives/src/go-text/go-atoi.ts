import { goParseInt } from './go-parse-int';

/** Go's strconv.Atoi(text): the value, or the error Go prints for it. */
export type GoAtoiResult = { value: number } | { error: string };

/**
 * Go's strconv.Atoi on a 64-bit platform: strconv.ParseInt(text, 10, 0), its error named
 * `strconv.Atoi` (`strconv.Atoi: parsing "x": invalid syntax`, `… value out of range`).
 * The value is a JS number, exact for the pids, sysctls and CPU ids it parses here.
 */
export function goAtoi(text: string): GoAtoiResult {
  const parsed = goParseInt(text, 64);
  if ('error' in parsed) return { error: parsed.error.replace('strconv.ParseInt', 'strconv.Atoi') };
  return { value: Number(parsed.value) };
}
