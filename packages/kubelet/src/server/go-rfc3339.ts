// time.Parse(time.RFC3339, value) for the node log query's sinceTime and untilTime, and the two
// ways upstream prints the result: journalctl's `--since` in dateLayout ("2006-1-2 15:4:5", the
// wall clock as parsed, its offset ignored) and time.Time.String() in a validation message.

/** A parsed RFC 3339 time: its wall clock, offset and instant. */
export interface GoTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The fraction of a second, in nanoseconds. */
  nanos: number;
  /** Seconds east of UTC; `utc` when written `Z`. */
  offsetSeconds: number;
  utc: boolean;
  /** Nanoseconds since the Unix epoch. */
  instant: bigint;
}

const layout = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** The days in a month of a year (Go's daysIn). */
function daysIn(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** time.Parse(time.RFC3339, value), or undefined where Go returns an error. */
export function parseRfc3339(value: string): GoTime | undefined {
  const m = layout.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8] as string;
  const utc = zone === 'Z';
  const [offHours, offMinutes] = utc ? [0, 0] : zone.slice(1).split(':').map(Number);
  if ((offHours ?? 0) > 24 || (offMinutes ?? 0) > 60) return undefined;
  const offsetSeconds = utc
    ? 0
    : (zone.startsWith('-') ? -1 : 1) * ((offHours ?? 0) * 3600 + (offMinutes ?? 0) * 60);
  const nanos = Number((m[7] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  const wallSeconds = BigInt(Date.UTC(year, month - 1, day, hour, minute, second) / 1000);
  const instant = (wallSeconds - BigInt(offsetSeconds)) * 1_000_000_000n + BigInt(nanos);
  return { year, month, day, hour, minute, second, nanos, offsetSeconds, utc, instant };
}

/** t.Format("2006-1-2 15:4:5"): the wall clock as parsed, no padding but the year's. */
export function formatDateLayout(t: GoTime): string {
  return `${String(t.year).padStart(4, '0')}-${t.month}-${t.day} ${t.hour}:${t.minute}:${t.second}`;
}

/**
 * t.String(): `2006-01-02 15:04:05.999999999 -0700 MST`, the fraction without trailing zeros.
 * A `Z` time (and, on a node whose local zone is UTC, an offset of zero) is in a zone named UTC;
 * another offset is a zone without a name, which Go prints as the offset again.
 */
export function goTimeString(t: GoTime): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const fraction = t.nanos ? `.${String(t.nanos).padStart(9, '0').replace(/0+$/, '')}` : '';
  const abs = Math.abs(t.offsetSeconds);
  const offset = `${t.offsetSeconds < 0 ? '-' : '+'}${two(Math.floor(abs / 3600))}${two(Math.floor((abs % 3600) / 60))}`;
  const zone = t.offsetSeconds === 0 ? 'UTC' : offset;
  return `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)} ${two(t.hour)}:${two(t.minute)}:${two(t.second)}${fraction} ${offset} ${zone}`;
}
