// Prefixes and ranges (`10.0.0.0/8`, `80-90`) as nft turns them into interval set elements:
// the intervals sorted, overlapping and adjacent ones merged, each written as a start key and an
// end-exclusive key flagged NFT_SET_ELEM_INTERVAL_END, with an end key at 0 first when the
// first interval does not start there.

import { InvalidFieldError } from '../../../errors';
import { dataTypeLength, encodeDataValue } from '../data-types';

/** Types whose values are big-endian numbers and can form prefixes and ranges. */
const NETWORK_ORDER_TYPES = new Set(['ipv4_addr', 'ipv6_addr', 'inet_service', 'inet_proto', 'ifname']);

export interface Interval {
  /** First value, inclusive. */
  start: bigint;
  /** Last value + 1 (may be 2^bits: the interval runs to the end). */
  end: bigint;
}

function toBigint(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

export function fromBigint(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** Is this value text a prefix or range (not a single value)? */
export function isIntervalText(type: string, text: string): boolean {
  if (type === 'ifname') return isWildcardName(text);
  if (!NETWORK_ORDER_TYPES.has(type)) return false;
  return text.includes('/') || splitRange(text) !== undefined;
}

/** `veth*` (quoted or not): an interface name prefix. */
export function isWildcardName(text: string): boolean {
  return text.replace(/"$/, '').endsWith('*');
}

/** The name before the `*` of a wildcard interface name. */
export function wildcardPrefix(text: string): string {
  return text.replace(/^"/, '').replace(/"$/, '').slice(0, -1);
}

/** `a-b` → [a, b]; addresses and ports contain no `-` themselves. */
export function splitRange(text: string): [string, string] | undefined {
  const i = text.indexOf('-');
  if (i <= 0 || i === text.length - 1) return undefined;
  return [text.slice(0, i), text.slice(i + 1)];
}

/** A prefix `addr/len`: the address masked to the prefix and the prefix length. */
export function parsePrefix(
  type: string,
  text: string,
): { base: Buffer; prefixLength: number; bits: number } {
  const [addr, lenText] = text.split('/');
  const base = encodeDataValue(type, addr ?? '');
  const bits = base.length * 8;
  if (!lenText || !/^[0-9]+$/.test(lenText) || Number(lenText) > bits)
    throw new InvalidFieldError(`nft ${type} prefix`, text, `needs a prefix length from 0 to ${bits}`);
  const prefixLength = Number(lenText);
  const hostBits = BigInt(bits - prefixLength);
  const masked = (toBigint(base) >> hostBits) << hostBits;
  return { base: fromBigint(masked, base.length), prefixLength, bits };
}

/** One value text (single, prefix or range) as an interval. */
export function intervalOf(type: string, text: string): Interval {
  if (type === 'ifname') {
    // Names are 16 NUL-padded bytes: `veth*` is the prefix of its 4 bytes, `eth0` one value.
    if (!isWildcardName(text)) {
      const v = toBigint(encodeDataValue(type, text));
      return { start: v, end: v + 1n };
    }
    const prefix = wildcardPrefix(text);
    const start = toBigint(encodeDataValue(type, prefix));
    return { start, end: start + (1n << BigInt((16 - Buffer.byteLength(prefix)) * 8)) };
  }
  if (text.includes('/')) {
    const p = parsePrefix(type, text);
    const start = toBigint(p.base);
    return { start, end: start + (1n << BigInt(p.bits - p.prefixLength)) };
  }
  const range = splitRange(text);
  if (range) {
    const start = toBigint(encodeDataValue(type, range[0]));
    const last = toBigint(encodeDataValue(type, range[1]));
    if (last < start) throw new InvalidFieldError(`nft ${type} range`, text, 'ends before it starts');
    return { start, end: last + 1n };
  }
  const v = toBigint(encodeDataValue(type, text));
  return { start: v, end: v + 1n };
}

/** Sorted, with overlapping and adjacent intervals merged. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Interval[] = [];
  for (const i of sorted) {
    const last = merged[merged.length - 1];
    if (last && i.start <= last.end) {
      if (i.end > last.end) last.end = i.end;
    } else merged.push({ ...i });
  }
  return merged;
}

/**
 * Interval set elements as the kernel stores them: keys, which of them are interval ends, and
 * whether the last interval runs to the top of the key space (it then has no end key).
 */
export function intervalElements(
  type: string,
  texts: readonly string[],
): { keys: Buffer[]; ends: number[]; openEnd: boolean } {
  if (!NETWORK_ORDER_TYPES.has(type))
    throw new InvalidFieldError(
      `nft ${type} interval`,
      texts,
      'prefixes and ranges need an address, port or protocol type',
    );
  const length = dataTypeLength(type);
  const top = 1n << BigInt(length * 8);
  const keys: Buffer[] = [];
  const ends: number[] = [];
  const merged = mergeIntervals(texts.map((t) => intervalOf(type, t)));
  if (merged[0] && merged[0].start !== 0n) {
    ends.push(keys.length);
    keys.push(Buffer.alloc(length));
  }
  let openEnd = false;
  for (const i of merged) {
    keys.push(fromBigint(i.start, length));
    if (i.end < top) {
      ends.push(keys.length);
      keys.push(fromBigint(i.end, length));
    } else openEnd = true;
  }
  return { keys, ends, openEnd };
}
