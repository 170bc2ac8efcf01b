// A key or map value written straight from IncrementalNftTable's packed form (packed-parts.ts)
// into a message: an IPv4 part's 4 bytes are copied, a number's bytes computed, a literal's
// characters parsed where they are. A full sync at 1M endpoints writes ~2M keys and 1M values;
// through their text each was first unpacked into a string, then parsed back into bytes.
//
// Only the forms whose bytes are certain to be the text path's are written here: a canonical
// dotted quad for ipv4_addr, a number for the numeric types, a literal without spaces or escapes
// (spaces could make the text's ` . ` split differ from the packing's parts). Anything else
// (another combination, a part count unlike the type's) returns false, and the caller writes the
// element from its text (writeKeyText), which also raises the errors.

import { BYTE, ESCAPE, IPV4, LITERAL, REPEAT, SHORT, TAGS } from '../packed-parts';
import { type KeyCodec, writeHostU32, zero } from './data-types';

const SPACE = 32;
type CodecPart = KeyCodec['parts'][number];

/**
 * Writes the key (or value) packed in `s` from `at` to its end as `codec` encodes its text, at
 * `outAt` of `out` (codec.length bytes, padding zeroed). False when it is not a form written
 * here: the bytes at `outAt` are then unspecified.
 */
export function writePackedKey(codec: KeyCodec, s: string, at: number, out: Buffer, outAt: number): boolean {
  zero(out, outAt, codec.length);
  const parts = codec.parts;
  let i = 0;
  // Where the last item that was not a REPEAT starts: a REPEAT is that item again.
  let previous = -1;
  while (at < s.length) {
    if (i === parts.length) return false;
    const part = parts[i] as CodecPart;
    const tag = s.charCodeAt(at);
    if (tag === REPEAT) {
      if (previous < 0 || writeItem(part, s, previous, out, outAt + part.offset) < 0) return false;
      at++;
    } else {
      const next = writeItem(part, s, at, out, outAt + part.offset);
      if (next < 0) return false;
      previous = at;
      at = next;
    }
    i++;
  }
  return i === parts.length;
}

/** Writes the item at `at` of `s` as `part`; returns where the next item starts, or -1. */
function writeItem(part: CodecPart, s: string, at: number, out: Buffer, o: number): number {
  const tag = s.charCodeAt(at);
  if (tag === IPV4) {
    if (part.name !== 'ipv4_addr') return -1;
    out[o] = s.charCodeAt(at + 1);
    out[o + 1] = s.charCodeAt(at + 2);
    out[o + 2] = s.charCodeAt(at + 3);
    out[o + 3] = s.charCodeAt(at + 4);
    return at + 5;
  }
  if (tag === BYTE || tag === SHORT) {
    const n = tag === BYTE ? s.charCodeAt(at + 1) : (s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2);
    if (!writeNumber(part.name, n, out, o)) return -1;
    return at + (tag === BYTE ? 2 : 3);
  }
  if (tag !== LITERAL) return -1;
  let end = at + 1;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === ESCAPE || c === SPACE) return -1;
    if (c < TAGS) break;
  }
  // The literal's characters are the part's text: parsed in place, as writeKeyText does.
  part.writeRange(s, at + 1, end, out, o);
  return end;
}

/** Writes `n` (0-65535, from its canonical decimal) as type `name`; false for other types. */
function writeNumber(name: string, n: number, out: Buffer, o: number): boolean {
  switch (name) {
    case 'inet_service':
      out[o] = n >> 8;
      out[o + 1] = n & 255;
      return true;
    case 'inet_proto':
      if (n > 255) return false;
      out[o] = n;
      return true;
    case 'integer':
    case 'mark':
    case 'iface_index':
      writeHostU32(n, out, o);
      return true;
    default:
      return false;
  }
}
