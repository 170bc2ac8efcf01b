/**
 * Formats a time the way Go's time.Time.String() prints a UTC time
 * ("2006-01-02 15:04:05.999999999 +0000 UTC"), which upstream's healthz JSON carries.
 */
export function formatGoTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = d.getUTCMilliseconds() === 0 ? '' : `.${pad(d.getUTCMilliseconds(), 3).replace(/0+$/, '')}`;
  return `${date} ${time}${frac} +0000 UTC`;
}
