import { randomBytes } from 'node:crypto';
import { goParseInt } from '@nodeagent/primitives/go-text';

// A Range header as net/http's serveContent reads it (fs.go parseRange, RFC 7233) and the
// multipart/byteranges body it sends for several ranges (mime/multipart's Writer framing).

/** One byte range of the content: its first byte and its length. */
export interface ByteRange {
  start: number;
  length: number;
}

/** parseRange's outcome: the ranges (none: the whole content), or its error text. */
export type RangeParse =
  | { ranges: ByteRange[] }
  | { error: 'invalid range' | 'invalid range: failed to overlap' };

/** textproto.TrimString: ASCII spaces, tabs, CR and LF off both ends. */
const trim = (s: string) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');

/** strconv.ParseInt(s, 10, 64) as a number, or undefined. */
function int64(s: string): number | undefined {
  const parsed = goParseInt(s, 64);
  return 'value' in parsed ? Number(parsed.value) : undefined;
}

/** One `first-last`, `first-` or `-suffix` spec: a range, `skip` (starts past the end), or invalid. */
function parseSpec(spec: string, size: number): ByteRange | 'skip' | undefined {
  const dash = spec.indexOf('-');
  if (dash < 0) return undefined;
  const [start, end] = [trim(spec.slice(0, dash)), trim(spec.slice(dash + 1))];
  if (start === '') {
    if (end === '' || end.startsWith('-')) return undefined;
    const suffix = int64(end);
    if (suffix === undefined || suffix < 0) return undefined;
    const first = size - Math.min(suffix, size);
    return { start: first, length: size - first };
  }
  const first = int64(start);
  if (first === undefined || first < 0) return undefined;
  if (first >= size) return 'skip';
  if (end === '') return { start: first, length: size - first };
  const last = int64(end);
  if (last === undefined || first > last) return undefined;
  return { start: first, length: Math.min(last, size - 1) - first + 1 };
}

/** parseRange(header, size). */
export function parseRange(header: string, size: number): RangeParse {
  if (header === '') return { ranges: [] };
  if (!header.startsWith('bytes=')) return { error: 'invalid range' };
  const ranges: ByteRange[] = [];
  let noOverlap = false;
  for (const raw of header.slice('bytes='.length).split(',')) {
    const spec = trim(raw);
    if (spec === '') continue;
    const range = parseSpec(spec, size);
    if (range === undefined) return { error: 'invalid range' };
    if (range === 'skip') noOverlap = true;
    else ranges.push(range);
  }
  if (noOverlap && ranges.length === 0) return { error: 'invalid range: failed to overlap' };
  return { ranges };
}

/** httpRange.contentRange: `bytes first-last/size`. */
export const contentRange = (r: ByteRange, size: number) =>
  `bytes ${r.start}-${r.start + r.length - 1}/${size}`;

/** A multipart/byteranges framing: each part's head, the closing line, and the boundary. */
export interface ByteRangesFraming {
  boundary: string;
  /** The text before each range's bytes (`--b`, Content-Range, Content-Type, blank line). */
  heads: string[];
  tail: string;
  /** Every byte of the body: heads, ranges and tail (rangesMIMESize). */
  size: number;
}

/**
 * mime/multipart's Writer framing for `ranges`: a random 30-byte boundary in hex, each part's
 * headers in sorted order, a CRLF before every delimiter after the first.
 */
export function byteRangesFraming(ranges: ByteRange[], contentType: string, size: number): ByteRangesFraming {
  const boundary = randomBytes(30).toString('hex');
  const heads = ranges.map(
    (r, i) =>
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Range: ${contentRange(r, size)}\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  const total =
    heads.reduce((n, h) => n + Buffer.byteLength(h), 0) + ranges.reduce((n, r) => n + r.length, 0);
  return { boundary, heads, tail, size: total + tail.length };
}
