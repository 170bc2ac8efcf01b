/** qosReserved as upstream's ParseQOSReserved reads it: only memory, as a whole percentage. */
export type QOSReserved = { memoryPercent?: number };

/**
 * Upstream cm.ParseQOSReserved: each entry must be `memory` with an integer percentage from 0 to
 * 100 and a `%` sign; anything else is refused with upstream's reason (the start fails with
 * `--qos-reserved value failed to parse: <reason>`, gate or no gate). Keys are read in sorted
 * order, so that of two bad entries the same one is named each time.
 */
export function parseQOSReserved(
  reserved: Readonly<Record<string, string>>,
): QOSReserved | { error: string } {
  const parsed: QOSReserved = {};
  for (const key of Object.keys(reserved).sort()) {
    if (key !== 'memory') return { error: `cannot reserve ${JSON.stringify(key)} resource` };
    const value = reserved[key]!;
    if (!value.endsWith('%')) return { error: 'percentage must end with %' };
    const digits = value.replace(/%+$/, '');
    // strconv.ParseInt: an optional sign, then decimal digits only.
    if (!/^[+-]?\d+$/.test(digits)) return { error: 'invalid number' };
    const percent = Number(digits);
    if (percent < 0 || percent > 100) return { error: 'percentage must be between 0 and 100' };
    parsed.memoryPercent = percent;
  }
  return parsed;
}
