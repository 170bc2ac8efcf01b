import type { ProtoReader } from './reader';

/** The last second formatted, and its text: a list's objects mostly share a creation second. */
let lastSeconds = Number.NaN;
let lastText = '';

/**
 * A metav1.Time message as its JSON: `null` for the zero time (Go writes it as an empty message),
 * else RFC 3339 in UTC to the second. Go's unmarshaller reads only the seconds (nanos are
 * dropped, as JSON never carried them), so an explicit seconds 0 is 1970-01-01T00:00:00Z.
 */
export function readTime(r: ProtoReader): string | null {
  const end = r.end();
  if (end === r.pos) return null;
  let seconds = 0;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 8) seconds = r.int64();
    else r.skip(tag & 7);
  }
  r.expectEnd(end, 'Time');
  if (seconds !== lastSeconds) {
    lastText = `${new Date(seconds * 1000).toISOString().slice(0, -5)}Z`;
    lastSeconds = seconds;
  }
  return lastText;
}
