/**
 * Go's formatting of the values upstream's error texts carry, so the texts match byte for byte:
 * strconv.Quote of bytes that may not be UTF-8 (a string's is primitives' goQuote), Go's string
 * order and `%v` of a sets.String.
 */
import { goQuote } from '@nodeagent/primitives/go-text';

function isContinuation(byte: number | undefined, low = 0x80, high = 0xbf): boolean {
  return byte !== undefined && byte >= low && byte <= high;
}

/** utf8.DecodeRune at `at`: the rune and its width, or -1 (width 1) for a byte that starts none. */
function decodeRune(bytes: Uint8Array, at: number): [number, number] {
  const b0 = bytes[at] ?? 0;
  if (b0 < 0x80) return [b0, 1];
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  const b3 = bytes[at + 3];
  if (b0 >= 0xc2 && b0 <= 0xdf)
    return isContinuation(b1) ? [((b0 & 0x1f) << 6) | ((b1 ?? 0) & 0x3f), 2] : [-1, 1];
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [low, high] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    if (!isContinuation(b1, low, high) || !isContinuation(b2)) return [-1, 1];
    return [((b0 & 0x0f) << 12) | (((b1 ?? 0) & 0x3f) << 6) | ((b2 ?? 0) & 0x3f), 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [low, high] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    if (!isContinuation(b1, low, high) || !isContinuation(b2) || !isContinuation(b3)) return [-1, 1];
    const rune =
      ((b0 & 0x07) << 18) | (((b1 ?? 0) & 0x3f) << 12) | (((b2 ?? 0) & 0x3f) << 6) | ((b3 ?? 0) & 0x3f);
    return [rune, 4];
  }
  return [-1, 1];
}

/**
 * strconv.Quote of the bytes: a byte that starts no UTF-8 rune prints as \xNN, each rune as
 * primitives' goQuote prints it.
 */
export function goQuoteBytes(bytes: Uint8Array): string {
  let quoted = '"';
  for (let at = 0; at < bytes.length; ) {
    const [rune, width] = decodeRune(bytes, at);
    quoted +=
      rune < 0
        ? `\\x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}`
        : goQuote(String.fromCodePoint(rune)).slice(1, -1);
    at += width;
  }
  return `${quoted}"`;
}

/** Go's byte order of strings (sort.Strings, fmt's map keys): UTF-8 bytes, not UTF-16 units. */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `%v` of a sets.String (a map to struct{}): `map[a:{} b:{}]`, keys in byte order. */
export function goStringSet(values: Iterable<string>): string {
  const keys = [...new Set(values)].sort(compareGoStrings);
  return `map[${keys.map((key) => `${key}:{}`).join(' ')}]`;
}
