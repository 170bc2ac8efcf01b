// The xt match structs iptables-nft 1.8.9 hands to the kernel's nft_compat (NFTA_MATCH_INFO) for
// the matches it does not translate to native expressions. Layouts are the kernel's uapi
// structs on a 64-bit host (x86_64, arm64), sized XT_ALIGN (8) as iptables sends them.

import { InvalidFieldError } from '../../errors';
import { MAX_COMMENT_LENGTH } from '../builtins';
import type { AddrType, ConntrackState, PortSpec } from '../model';

/** xt_comment_info: char comment[XT_MAX_COMMENT_LEN = 256]. */
export const COMMENT_INFO_LENGTH = 256;

/** xt_comment_info. */
export function commentInfo(comment: string): Buffer {
  const info = Buffer.alloc(COMMENT_INFO_LENGTH);
  writeCommentInfo(info, 0, comment);
  return info;
}

/** xt_comment_info written at `at` of `out`, whose 256 bytes there are zero. */
export function writeCommentInfo(out: Buffer, at: number, comment: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short comment needs no count of its bytes.
  // iptables refuses a longer comment; cutting it would write a different rule.
  if (comment.length * 3 > MAX_COMMENT_LENGTH && Buffer.byteLength(comment, 'utf8') > MAX_COMMENT_LENGTH)
    throw new InvalidFieldError('--comment', comment, `is longer than ${MAX_COMMENT_LENGTH} bytes`);
  out.write(comment, at, MAX_COMMENT_LENGTH, 'utf8');
}

/** NFACCT_NAME_MAX: the kernel's nfacct object names, NUL included. */
const NFACCT_NAME_MAX = 32;

/**
 * xt_nfacct_match_info_v1 (iptables 1.8.9 sends revision 1): char name[32], then the kernel's
 * pointer, 8-aligned: 40 bytes.
 */
export function nfacctInfo(name: string): Buffer {
  if (name === '' || Buffer.byteLength(name, 'utf8') >= NFACCT_NAME_MAX)
    throw new InvalidFieldError(
      '--nfacct-name',
      name,
      `is empty or not shorter than ${NFACCT_NAME_MAX} bytes`,
    );
  const info = Buffer.alloc(40);
  info.write(name, 0, NFACCT_NAME_MAX - 1, 'utf8');
  return info;
}

/**
 * xt_statistic_info, random mode: u16 mode, u16 flags, then the union (random.probability
 * shares its slot with nth.every; nth.packet, nth.count follow), then a kernel pointer.
 */
export function statisticRandomInfo(probability: number): Buffer {
  if (!(probability >= 0 && probability <= 1))
    throw new InvalidFieldError('--probability', probability, 'is not between 0 and 1');
  const info = Buffer.alloc(24);
  // XT_STATISTIC_MODE_RANDOM = 0; iptables rounds the probability to 31 bits.
  const scaled = Math.round(probability * 0x80000000) >>> 0;
  info.writeUInt32LE(scaled, 4);
  // libxt_statistic's final check sets nth.count = nth.every - nth.packet in every mode.
  info.writeUInt32LE(scaled, 12);
  return info;
}

/** XT_CONNTRACK_STATE_BIT(ctinfo) and the extra states, as libxt_conntrack spells them. */
const CONNTRACK_STATE_BITS: Readonly<Record<ConntrackState, number>> = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  SNAT: 1 << 6,
  DNAT: 1 << 7,
  UNTRACKED: 1 << 8,
};
/** XT_CONNTRACK_STATE in match_flags / invert_flags. */
const XT_CONNTRACK_STATE = 1;

/** xt_conntrack_mtinfo3 (revision 3) with only `--ctstate` set. */
export function conntrackStateInfo(states: readonly ConntrackState[], negate: boolean): Buffer {
  const info = Buffer.alloc(168);
  let mask = 0;
  for (const state of states) mask |= CONNTRACK_STATE_BITS[state];
  // 8 addresses (128 bytes), expires min/max (8), l4proto and 4 ports (10), then the flags.
  info.writeUInt16LE(XT_CONNTRACK_STATE, 146);
  info.writeUInt16LE(negate ? XT_CONNTRACK_STATE : 0, 148);
  info.writeUInt16LE(mask, 150);
  return info;
}

/** enum xt_addrtype_t. */
const ADDRTYPE_BITS: Readonly<Record<AddrType, number>> = {
  UNSPEC: 1 << 0,
  UNICAST: 1 << 1,
  LOCAL: 1 << 2,
  BROADCAST: 1 << 3,
  ANYCAST: 1 << 4,
  MULTICAST: 1 << 5,
  BLACKHOLE: 1 << 6,
  UNREACHABLE: 1 << 7,
  PROHIBIT: 1 << 8,
  THROW: 1 << 9,
  NAT: 1 << 10,
  XRESOLVE: 1 << 11,
};

/** xt_addrtype_info_v1 (revision 1): u16 source, u16 dest, u32 flags (inversions). */
export function addrtypeInfo(
  source: AddrType | undefined,
  destination: AddrType | undefined,
  negateSource: boolean,
  negateDestination: boolean,
): Buffer {
  const info = Buffer.alloc(8);
  info.writeUInt16LE(source ? ADDRTYPE_BITS[source] : 0, 0);
  info.writeUInt16LE(destination ? ADDRTYPE_BITS[destination] : 0, 2);
  // XT_ADDRTYPE_INVERT_SOURCE = 1, XT_ADDRTYPE_INVERT_DEST = 2.
  info.writeUInt32LE((negateSource ? 1 : 0) | (negateDestination ? 2 : 0), 4);
  return info;
}

/** A port spec as the [low, high] pair xt structs hold (absent: the whole range). */
export function portRange(spec: PortSpec | undefined): [number, number] {
  if (spec === undefined) return [0, 0xffff];
  return typeof spec === 'number' ? [spec, spec] : [spec[0], spec[1]];
}

/** xt_tcp / xt_udp with no option set (`-m tcp` alone): both port ranges whole. */
export function tcpUdpAnyInfo(): Buffer {
  const info = Buffer.alloc(16);
  info.writeUInt16LE(0xffff, 2);
  info.writeUInt16LE(0xffff, 6);
  return info;
}

/**
 * xt_sctp_info: dpts, spts, chunkmap[64], chunk_match_type, flag_info[4] (3 bytes each),
 * flag_count, flags, invflags; 292 bytes sent as 296. libxt_sctp leaves an unset port range at
 * 0:0 and marks the flag slots unused with chunk type 0xff.
 */
export function sctpInfo(
  source: PortSpec | undefined,
  destination: PortSpec | undefined,
  negateSource: boolean,
  negateDestination: boolean,
): Buffer {
  const info = Buffer.alloc(296);
  const [dLow, dHigh] = destination === undefined ? [0, 0] : portRange(destination);
  const [sLow, sHigh] = source === undefined ? [0, 0] : portRange(source);
  info.writeUInt16LE(dLow, 0);
  info.writeUInt16LE(dHigh, 2);
  info.writeUInt16LE(sLow, 4);
  info.writeUInt16LE(sHigh, 6);
  for (let slot = 0; slot < 4; slot++) info[268 + 3 * slot] = 0xff;
  // XT_SCTP_SRC_PORTS = 1, XT_SCTP_DEST_PORTS = 2.
  const flags = (source !== undefined ? 1 : 0) | (destination !== undefined ? 2 : 0);
  info.writeUInt32LE(flags, 284);
  info.writeUInt32LE((negateSource ? 1 : 0) | (negateDestination ? 2 : 0), 288);
  return info;
}
