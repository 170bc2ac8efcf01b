import { goUnescapeBytes } from './go-url-path';

/**
 * Go's url.ParseQuery on a raw query (what req.URL.Query() returns): pairs split on `&` only;
 * a pair holding `;` or an escape Go cannot decode is dropped (ParseQuery's error, which
 * Query() ignores); `+` is a space. Values keep their order per key.
 */
export function goParseQuery(rawQuery: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const [rawKey, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const key = queryUnescape(rawKey);
    const value = queryUnescape(rawValue);
    if (key === undefined || value === undefined) continue;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return values;
}

/** url.QueryUnescape: `+` as a space, `%XX` decoded; undefined for a malformed escape. */
function queryUnescape(raw: string): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return undefined;
  return goUnescapeBytes(raw.replace(/\+/g, ' ')).toString('utf8');
}

/** url.Values.Get: the first value of `key`, or ''. */
export function firstValue(values: Map<string, string[]>, key: string): string {
  return values.get(key)?.[0] ?? '';
}
