// net/http's ParseTime: an HTTP date in any of the three forms RFC 7231 allows (TimeFormat,
// RFC 850, ANSI C asctime), each read as UTC; undefined for anything else, which Go's
// conditional-request checks then ignore.

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const longWeekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const forms: {
  re: RegExp;
  fields: (m: RegExpExecArray) => [string, string, string, string, string, string, string];
}[] = [
  // Mon, 02 Jan 2006 15:04:05 GMT
  {
    re: /^(\w{3}), (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/,
    fields: (m) => [m[1], m[2], m[3], m[4], m[5], m[6], m[7]] as never,
  },
  // Monday, 02-Jan-06 15:04:05 GMT (a two-digit year: 69–99 are 19xx, as Go reads `06`)
  {
    re: /^(\w+), (\d{2})-(\w{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/,
    fields: (m) =>
      [
        m[1],
        m[2],
        m[3],
        String(Number(m[4]) >= 69 ? 1900 + Number(m[4]) : 2000 + Number(m[4])),
        m[5],
        m[6],
        m[7],
      ] as never,
  },
  // Mon Jan _2 15:04:05 2006
  {
    re: /^(\w{3}) (\w{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/,
    fields: (m) => [m[1], m[3], m[2], m[7], m[4], m[5], m[6]] as never,
  },
];

/** http.ParseTime: milliseconds since the epoch, or undefined. */
export function parseHttpDate(text: string): number | undefined {
  for (const { re, fields } of forms) {
    const m = re.exec(text);
    if (!m) continue;
    const [weekday, day, month, year, hour, minute, second] = fields(m);
    const monthIndex = months.indexOf(month);
    if (monthIndex < 0 || !(weekdays.includes(weekday) || longWeekdays.includes(weekday))) return undefined;
    const [d, h, mi, s] = [Number(day.trim()), Number(hour), Number(minute), Number(second)];
    const ms = Date.UTC(Number(year), monthIndex, d, h, mi, s);
    if (new Date(ms).getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
    return ms;
  }
  return undefined;
}

/** The Last-Modified text of a modification time: http.TimeFormat, whole seconds. */
export function httpDate(mtimeMs: number): string {
  return new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString();
}
