// nft's data types as nf_tables stores them: the bytes of a set key, a map value or a
// comparison operand, and the datatype ids nft writes as NFTA_SET_KEY_TYPE / NFTA_SET_DATA_TYPE.
// Byte order follows nft: addresses, ports and protocols in network order, host-order integers
// for meta/ct values (mark, ct state bits, fib address types, numgen results).

import { endianness } from 'node:os';
import ipaddr from 'ipaddr.js';
import { InvalidFieldError } from '../../errors';
import { AttributeWriter } from './attributes';

/** NFTA_DATA_* / NFTA_VERDICT_* attribute types and the kernel's verdict codes. */
export const NFTA_DATA_VALUE = 1;
export const NFTA_DATA_VERDICT = 2;
export const NFTA_VERDICT_CODE = 1;
export const NFTA_VERDICT_CHAIN = 2;
export const VERDICT_CODES = {
  drop: 0,
  accept: 1,
  continue: -1,
  break: -2,
  jump: -3,
  goto: -4,
  return: -5,
} as const;
export type VerdictKind = keyof typeof VERDICT_CODES;

export interface Verdict {
  kind: VerdictKind;
  /** jump / goto target. */
  chain?: string;
}

/** nft's datatype ids (src/datatype.h enum datatypes); concatenations pack them 6 bits apart. */
export const DATATYPE_IDS: Readonly<Record<string, number>> = {
  verdict: 1,
  nf_proto: 2,
  bitmask: 3,
  integer: 4,
  string: 5,
  ipv4_addr: 7,
  ipv6_addr: 8,
  ether_addr: 9,
  ether_type: 10,
  inet_proto: 12,
  inet_service: 13,
  mark: 19,
  iface_index: 20,
  ct_state: 26,
  ct_dir: 27,
  ct_status: 28,
  pkt_type: 31,
  fib_addrtype: 38,
  ifname: 41,
};
const CONCAT_TYPE_BITS = 6;
/** NFT_DATA_VERDICT as a set's data type (maps to verdicts). */
export const NFT_DATA_VERDICT_TYPE = 0xffffff00;

const hostIsLittleEndian = endianness() === 'LE';

/** A u32 in host byte order (nft's integer/mark/ct bits/fib types). */
export function hostU32(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (hostIsLittleEndian) b.writeUInt32LE(value >>> 0, 0);
  else b.writeUInt32BE(value >>> 0, 0);
  return b;
}

/** A u32 read in host byte order (how libnftnl prints register words). */
export function readHostU32(buffer: Buffer, offset: number): number {
  return hostIsLittleEndian ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
}

const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};
const SERVICES: Readonly<Record<string, number>> = {
  ssh: 22,
  domain: 53,
  http: 80,
  https: 443,
};
const NF_PROTOS: Readonly<Record<string, number>> = { ipv4: 2, ipv6: 10 };
/** ct state bits (NF_CT_STATE_BIT). */
export const CT_STATES: Readonly<Record<string, number>> = {
  invalid: 1,
  established: 2,
  related: 4,
  new: 8,
  untracked: 64,
};
/** ct status bits (IPS_*). */
export const CT_STATUSES: Readonly<Record<string, number>> = {
  expected: 1,
  'seen-reply': 2,
  assured: 4,
  confirmed: 8,
  snat: 16,
  dnat: 32,
  dying: 512,
};
/** fib address types (RTN_*). */
const FIB_ADDRTYPES: Readonly<Record<string, number>> = {
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
};
const PKT_TYPES: Readonly<Record<string, number>> = {
  host: 0,
  unicast: 0,
  broadcast: 1,
  multicast: 2,
  other: 3,
};
const CT_DIRS: Readonly<Record<string, number>> = { original: 0, reply: 1 };
const IFNAME_LENGTH = 16;

function invalid(type: string, text: string, reason: string): InvalidFieldError {
  return new InvalidFieldError(`nft ${type} value`, text, reason);
}

function parseUnsigned(type: string, text: string, max: number): number {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) throw invalid(type, text, 'is not a number');
  const value = Number(text);
  if (value > max) throw invalid(type, text, `is larger than ${max}`);
  return value;
}

function symbolic(type: string, table: Readonly<Record<string, number>>, text: string, max: number): number {
  const known = table[text];
  return known ?? parseUnsigned(type, text, max);
}

/** `a,b,c` of bit names (ct state / status) ORed together. */
function bits(type: string, table: Readonly<Record<string, number>>, text: string): number {
  let value = 0;
  for (const part of text.split(',')) {
    const name = part.trim();
    const bit = table[name];
    if (bit === undefined) throw invalid(type, name, `is not a ${type} (${Object.keys(table).join(', ')})`);
    value |= bit;
  }
  return value >>> 0;
}

function ipv4(text: string): Buffer {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw invalid('ipv4_addr', text, 'is not an IPv4 address');
  return Buffer.from(ipaddr.IPv4.parse(text).toByteArray());
}

function ipv6(text: string): Buffer {
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text))
    throw invalid('ipv6_addr', text, 'is not an IPv6 address');
  return Buffer.from(ipaddr.IPv6.parse(text).toByteArray());
}

function etherAddr(text: string): Buffer {
  if (!/^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}$/.test(text))
    throw invalid('ether_addr', text, 'is not an Ethernet address');
  return Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') && text.length >= 2 ? text.slice(1, -1) : text;
}

/** Interface names: 16 bytes, NUL padded. (A trailing `*` wildcard is the compiler's business.) */
function ifname(text: string): Buffer {
  const name = Buffer.from(unquote(text), 'utf8');
  if (name.length >= IFNAME_LENGTH)
    throw invalid('ifname', text, `is longer than ${IFNAME_LENGTH - 1} bytes`);
  const b = Buffer.alloc(IFNAME_LENGTH);
  name.copy(b);
  return b;
}

function u8(value: number): Buffer {
  return Buffer.from([value]);
}

function be16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value, 0);
  return b;
}

interface DataType {
  /** Natural length in bytes (before concatenation padding). */
  length: number;
  encode(text: string): Buffer;
}

const TYPES: Readonly<Record<string, DataType>> = {
  ipv4_addr: { length: 4, encode: ipv4 },
  ipv6_addr: { length: 16, encode: ipv6 },
  ether_addr: { length: 6, encode: etherAddr },
  inet_proto: { length: 1, encode: (t) => u8(symbolic('inet_proto', PROTOCOLS, t, 0xff)) },
  inet_service: { length: 2, encode: (t) => be16(symbolic('inet_service', SERVICES, t, 0xffff)) },
  nf_proto: { length: 1, encode: (t) => u8(symbolic('nf_proto', NF_PROTOS, t, 0xff)) },
  ifname: { length: IFNAME_LENGTH, encode: ifname },
  mark: { length: 4, encode: (t) => hostU32(parseUnsigned('mark', t, 0xffffffff)) },
  integer: { length: 4, encode: (t) => hostU32(parseUnsigned('integer', t, 0xffffffff)) },
  iface_index: { length: 4, encode: (t) => hostU32(parseUnsigned('iface_index', t, 0xffffffff)) },
  ct_state: { length: 4, encode: (t) => hostU32(bits('ct_state', CT_STATES, t)) },
  ct_status: { length: 4, encode: (t) => hostU32(bits('ct_status', CT_STATUSES, t)) },
  ct_dir: { length: 1, encode: (t) => u8(symbolic('ct_dir', CT_DIRS, t, 1)) },
  fib_addrtype: { length: 4, encode: (t) => hostU32(symbolic('fib_addrtype', FIB_ADDRTYPES, t, 0xffffffff)) },
  pkt_type: { length: 1, encode: (t) => u8(symbolic('pkt_type', PKT_TYPES, t, 0xff)) },
};

function dataType(name: string): DataType {
  const type = TYPES[name];
  if (!type)
    throw invalid(name, name, `is not a data type this library encodes (${Object.keys(TYPES).join(', ')})`);
  return type;
}

/** The parts of a `.`-joined type: `ipv4_addr . inet_proto` → ['ipv4_addr', 'inet_proto']. */
export function typeParts(type: string): string[] {
  return type.split('.').map((p) => p.trim());
}

/** Concatenated parts sit 4-byte aligned, as the kernel's registers hold them. */
export function concatPartLength(length: number): number {
  return (length + 3) & ~3;
}

/** Natural length of one data type in bytes. */
export function dataTypeLength(name: string): number {
  return dataType(name).length;
}

/** Key length of a (possibly concatenated) type: parts padded to 4 bytes when there are several. */
export function keyLength(type: string): number {
  const parts = typeParts(type);
  if (parts.length === 1) return dataTypeLength(parts[0] as string);
  return parts.reduce((sum, part) => sum + concatPartLength(dataTypeLength(part)), 0);
}

/** NFTA_SET_KEY_TYPE / NFTA_SET_DATA_TYPE of a type text (verdict → NFT_DATA_VERDICT). */
export function dataTypeId(type: string): number {
  if (type.trim() === 'verdict') return NFT_DATA_VERDICT_TYPE;
  let id = 0;
  for (const part of typeParts(type)) {
    const own = DATATYPE_IDS[part];
    if (own === undefined) throw invalid(part, part, 'has no known nft datatype id');
    id = ((id << CONCAT_TYPE_BITS) | own) >>> 0;
  }
  return id;
}

/** One value of one (non-concatenated) data type, at its natural length. */
export function encodeDataValue(type: string, text: string): Buffer {
  return dataType(type).encode(text.trim());
}

/**
 * A set key or comparison operand: one part per concatenated type. A single part is at its
 * natural length; several are each padded to 4 bytes (the kernel's register layout).
 */
export function encodeKey(type: string, parts: readonly string[]): Buffer {
  const types = typeParts(type);
  if (types.length !== parts.length)
    throw new InvalidFieldError(
      `nft key of type ${type}`,
      parts,
      `has ${parts.length} parts, the type ${types.length}`,
    );
  if (types.length === 1) return encodeDataValue(types[0] as string, parts[0] as string);
  const chunks = types.map((t, i) => {
    const raw = encodeDataValue(t, parts[i] as string);
    const padded = Buffer.alloc(concatPartLength(raw.length));
    raw.copy(padded);
    return padded;
  });
  return Buffer.concat(chunks);
}

/** Writes one part's natural bytes at `at` (the buffer is already zeroed where padding goes). */
type PartWriter = (text: string, out: Buffer, at: number) => void;
/**
 * The same for the part that is `text.slice(start, end)`, without taking the slice: the key
 * texts of a large table's elements are parsed where they are (`10.96.0.1 . tcp . 80 . 3`).
 */
type RangeWriter = (text: string, start: number, end: number, out: Buffer, at: number) => void;

/** A (possibly concatenated) key type, resolved once: per part its writer and padded offset. */
export interface KeyCodec {
  readonly type: string;
  /** Bytes of the whole key (keyLength). */
  readonly length: number;
  readonly parts: readonly {
    /** The part's data type name (`ipv4_addr`, `inet_service`, …). */
    readonly name: string;
    readonly offset: number;
    readonly length: number;
    readonly write: PartWriter;
    readonly writeRange: RangeWriter;
  }[];
}

/** Strict dotted quad without leading zeros (what ipaddr's four-part decimal accepts) in text[start, end): its u32, or -1. */
function quickIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Plain decimal up to `max` in text[start, end), or -1 (anything else takes the full parser). */
function quickDecimal(text: string, max: number, start = 0, end = text.length): number {
  if (end <= start || end - start > 10) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value <= max ? value : -1;
}

/** `tcp`, `udp`, `sctp` in text[start, end) without slicing it, or a decimal, or -1. */
function quickProtocol(text: string, start: number, end: number): number {
  const length = end - start;
  if (length === 3 && text.startsWith('tcp', start)) return 6;
  if (length === 3 && text.startsWith('udp', start)) return 17;
  if (length === 4 && text.startsWith('sctp', start)) return 132;
  return quickDecimal(text, 0xff, start, end);
}

/** `value` as nft's host-order u32 types hold it, written at `at` of `out`. */
export function writeHostU32(value: number, out: Buffer, at: number): void {
  if (hostIsLittleEndian) out.writeUInt32LE(value, at);
  else out.writeUInt32BE(value, at);
}

/** Host-order u32 types (nft's integer, mark, iface_index): decimal text quickly, the rest fully. */
function hostU32Writer(name: string): RangeWriter {
  return (text, start, end, out, at) => {
    const value = quickDecimal(text, 0xffffffff, start, end);
    if (value >= 0) writeHostU32(value, out, at);
    else encodeDataValue(name, text.slice(start, end)).copy(out, at);
  };
}

// The common types of large maps get allocation-free writers; the others (and any text the quick
// parsers do not take, e.g. with spaces or an error to report) go through the full encoders.
const QUICK_WRITERS: Readonly<Record<string, RangeWriter>> = {
  ipv4_addr: (text, start, end, out, at) => {
    const value = quickIpv4(text, start, end);
    if (value >= 0) out.writeUInt32BE(value, at);
    else ipv4(text.slice(start, end).trim()).copy(out, at);
  },
  inet_service: (text, start, end, out, at) => {
    const value = quickDecimal(text, 0xffff, start, end);
    if (value >= 0) out.writeUInt16BE(value, at);
    else TYPES.inet_service!.encode(text.slice(start, end).trim()).copy(out, at);
  },
  inet_proto: (text, start, end, out, at) => {
    const value = quickProtocol(text, start, end);
    if (value >= 0) out[at] = value;
    else TYPES.inet_proto!.encode(text.slice(start, end).trim()).copy(out, at);
  },
  integer: hostU32Writer('integer'),
  mark: hostU32Writer('mark'),
  iface_index: hostU32Writer('iface_index'),
};

const keyCodecs = new Map<string, KeyCodec>();

/** The codec of a key type text (cached: a table has a handful of types and 100k elements). */
export function keyCodec(type: string): KeyCodec {
  let codec = keyCodecs.get(type);
  if (codec) return codec;
  const names = typeParts(type);
  let offset = 0;
  const parts = names.map((name) => {
    const natural = dataType(name).length;
    const writeRange: RangeWriter =
      QUICK_WRITERS[name] ??
      ((text, start, end, out, at) => encodeDataValue(name, text.slice(start, end)).copy(out, at));
    const write: PartWriter = (text, out, at) => writeRange(text, 0, text.length, out, at);
    const part = { name, offset, length: natural, write, writeRange };
    offset += names.length === 1 ? natural : concatPartLength(natural);
    return part;
  });
  codec = { type, length: offset, parts };
  if (keyCodecs.size < 256) keyCodecs.set(type, codec);
  return codec;
}

/** Zeroes `length` bytes of `out` from `at` (a key's padding). */
export function zero(out: Buffer, at: number, length: number): void {
  // A loop: Buffer.fill's argument checks cost more than the few bytes of a key.
  for (let i = at; i < at + length; i++) out[i] = 0;
}

/** encodeKey's bytes written at `at` of `out` (codec.length bytes, padding zeroed). */
export function writeKey(codec: KeyCodec, parts: readonly string[], out: Buffer, at: number): void {
  if (codec.parts.length !== parts.length)
    throw new InvalidFieldError(
      `nft key of type ${codec.type}`,
      parts,
      `has ${parts.length} parts, the type ${codec.parts.length}`,
    );
  zero(out, at, codec.length);
  for (let i = 0; i < parts.length; i++) {
    const part = codec.parts[i]!;
    part.write(parts[i] as string, out, at + part.offset);
  }
}

/** Separator of a key text's parts (`parts.join(' . ')`). */
const PART_SEPARATOR = ' . ';

/**
 * writeKey of `text.split(' . ')`, parsing the parts where they are in the text: a table's
 * elements reach the encoder as text, and a key array per element was most of their garbage.
 */
export function writeKeyText(codec: KeyCodec, text: string, out: Buffer, at: number): void {
  zero(out, at, codec.length);
  const parts = codec.parts;
  let start = 0;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const end = last ? text.length : text.indexOf(PART_SEPARATOR, start);
    if (end < 0 || (last && text.includes(PART_SEPARATOR, start))) {
      const found = text.split(PART_SEPARATOR);
      throw new InvalidFieldError(
        `nft key of type ${codec.type}`,
        found,
        `has ${found.length} parts, the type ${parts.length}`,
      );
    }
    const part = parts[i]!;
    part.writeRange(text, start, end, out, at + part.offset);
    start = end + PART_SEPARATOR.length;
  }
}

/** `jump x`, `goto x`, `accept`, … */
export function parseVerdict(text: string): Verdict {
  const [word, chain, extra] = text.trim().split(/\s+/);
  if (word === 'jump' || word === 'goto') {
    if (!chain || extra !== undefined)
      throw invalid('verdict', text, `needs exactly one chain after ${word}`);
    return { kind: word, chain: unquote(chain) };
  }
  if (word && word in VERDICT_CODES && chain === undefined && word !== 'break')
    return { kind: word as VerdictKind };
  throw invalid(
    'verdict',
    text,
    'is not a verdict (accept, drop, continue, return, jump <chain>, goto <chain>)',
  );
}

/** The NFTA_DATA_VERDICT nest's payload (code, and chain for jump/goto). */
export function encodeVerdict(verdict: Verdict): Buffer {
  const w = new AttributeWriter().u32(NFTA_VERDICT_CODE, VERDICT_CODES[verdict.kind]);
  if (verdict.chain !== undefined) w.string(NFTA_VERDICT_CHAIN, verdict.chain);
  return w.toBuffer();
}

/**
 * A map value as the payload of NFTA_SET_ELEM_DATA (an NFTA_DATA_VALUE attribute, or an
 * NFTA_DATA_VERDICT nest for `verdict` maps).
 */
export function encodeValue(type: string, parts: readonly string[]): Buffer {
  if (type.trim() === 'verdict') {
    if (parts.length !== 1) throw new InvalidFieldError('nft verdict value', parts, 'must be one verdict');
    return new AttributeWriter()
      .nestedBytes(NFTA_DATA_VERDICT, encodeVerdict(parseVerdict(parts[0] as string)))
      .toBuffer();
  }
  return new AttributeWriter().bytes(NFTA_DATA_VALUE, encodeKey(type, parts)).toBuffer();
}
