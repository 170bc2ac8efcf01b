// Each part of an iptables rule as the expressions iptables-nft 1.8.9 gives it (nft_ipv4_add /
// nft_ipv6_add): the fixed header fields (-i, -o, -p, -s, -d), each match (tcp/udp ports and
// mark natively, others as xt matches) and the target. A shape this file does not reproduce
// exactly is refused (IptablesNftUnsupportedError, or false), so the caller uses
// iptables-restore instead. rule-encoder.ts puts the parts in order.

import { Verdict } from '../../nftables/netlink/constants';
import type { IpFamily, Match, PortSpec, Target } from '../model';
import { cidrBytes, ipv4Bytes } from './address-bytes';
import { IptablesNftUnsupportedError } from './errors';
import { CmpOp, type ExpressionWriter, MetaKey, PayloadBase } from './expression-writer';
import type { Place } from './place';
import {
  addrtypeInfo,
  COMMENT_INFO_LENGTH,
  conntrackStateInfo,
  nfacctInfo,
  portRange,
  sctpInfo,
  statisticRandomInfo,
  tcpUdpAnyInfo,
  writeCommentInfo,
} from './xt-match-info';
import {
  DNAT_INFO_LENGTH,
  markTargetInfo,
  masqueradeInfo,
  rejectInfo,
  writeDnatInfo,
} from './xt-target-info';

/** IP protocol numbers of `-p` names iptables accepts. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  tcp: 6,
  udp: 17,
  sctp: 132,
  icmp: 1,
  'ipv6-icmp': 58,
  icmpv6: 58,
  all: 0,
};

/** Where `-s`/`-d` sit in the network header. */
const ADDRESS_OFFSETS: Readonly<Record<IpFamily, { source: number; destination: number }>> = {
  ipv4: { source: 12, destination: 16 },
  ipv6: { source: 8, destination: 24 },
};

/** The matches iptables keeps in its fixed header (struct ipt_ip / ip6t_ip6), not as modules. */
export type HeaderMatch = Extract<
  Match,
  { kind: 'protocol' | 'source' | 'destination' | 'in-interface' | 'out-interface' }
>;
/** The order nft_ipv4_add / nft_ipv6_add write the header fields in. */
export const HEADER_ORDER = ['in-interface', 'out-interface', 'protocol', 'source', 'destination'] as const;

const op = (negate: boolean | undefined) => (negate ? CmpOp.neq : CmpOp.eq);

function be16(value: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(value, 0);
  return b;
}

function le32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}

/** add_iniface/add_outiface: an exact name compares with its NUL, `name+` without the `+`. */
function writeInterface(
  out: ExpressionWriter,
  key: number,
  name: string,
  negate: boolean | undefined,
  where: Place,
) {
  if (name === '+' || name.length === 0)
    throw new IptablesNftUnsupportedError(String(where), `interface "${name}"`);
  out.meta(key);
  const wildcard = name.endsWith('+');
  const text = wildcard ? name.slice(0, -1) : `${name}\0`;
  out.cmp(op(negate), Buffer.from(text, 'latin1'));
}

/** add_addr: a byte-aligned prefix loads only its bytes; any other mask goes through a bitwise. */
function writeAddress(
  out: ExpressionWriter,
  family: IpFamily,
  offset: number,
  match: HeaderMatch & { address: string },
  where: Place,
) {
  // A bare IPv4 address (an endpoint's `-s`) is a host: all four bytes compared, no mask.
  const host = family === 'ipv4' && match.address.indexOf('/') < 0 ? ipv4Bytes(match.address) : undefined;
  if (host) {
    out.payload(PayloadBase.network, offset, 4);
    out.cmp(op(match.negate), host);
    return;
  }
  const { address, mask } = cidrBytes(match.address, family, where);
  let full = 0;
  while (full < mask.length && mask[full] === 0xff) full++;
  const aligned = mask.subarray(full).every((byte) => byte === 0);
  if (aligned && full === 0) {
    if (match.negate) throw new IptablesNftUnsupportedError(String(where), `negated ${match.kind} /0`);
    return;
  }
  if (aligned) {
    out.payload(PayloadBase.network, offset, full);
    out.cmp(op(match.negate), address.subarray(0, full));
    return;
  }
  out.payload(PayloadBase.network, offset, mask.length);
  out.mask(mask);
  out.cmp(op(match.negate), address);
}

/** Writes one of the fixed header fields (-i, -o, -p, -s, -d) as nft_ipv4_add/nft_ipv6_add do. */
export function writeHeaderMatch(
  out: ExpressionWriter,
  family: IpFamily,
  match: HeaderMatch,
  where: Place,
): void {
  switch (match.kind) {
    case 'in-interface':
      writeInterface(out, MetaKey.iifname, match.name, match.negate, where);
      return;
    case 'out-interface':
      writeInterface(out, MetaKey.oifname, match.name, match.negate, where);
      return;
    case 'protocol': {
      const number = PROTOCOL_NUMBERS[match.protocol] as number;
      if (number === 0) {
        if (match.negate) throw new IptablesNftUnsupportedError(String(where), '! -p all');
        return;
      }
      out.meta(MetaKey.l4proto);
      out.cmp(op(match.negate), Buffer.of(number));
      return;
    }
    case 'source':
    case 'destination':
      writeAddress(out, family, ADDRESS_OFFSETS[family][match.kind], match, where);
      return;
  }
}

/** add_nft_tcpudp for one direction: a single port compares, a range (low > 0) is a range. */
function writePorts(
  out: ExpressionWriter,
  offset: number,
  spec: PortSpec,
  negate: boolean | undefined,
  where: Place,
) {
  const [low, high] = portRange(spec);
  out.payload(PayloadBase.transport, offset, 2);
  if (low === high) out.cmp(op(negate), be16(low));
  else if (low > 0) out.range(op(negate), be16(low), be16(high));
  else throw new IptablesNftUnsupportedError(String(where), `port range ${low}:${high}`);
}

/** Writes one match as iptables-nft would; false when this file has no exact translation. */
export function writeMatch(out: ExpressionWriter, match: Match, where: Place): boolean {
  switch (match.kind) {
    case 'comment':
      writeCommentInfo(
        out.bytes,
        out.compatInPlace('match', 'comment', 0, COMMENT_INFO_LENGTH),
        match.comment,
      );
      return true;
    case 'statistic':
      if (match.mode !== 'random') return false;
      out.match('statistic', 0, statisticRandomInfo(match.probability));
      return true;
    case 'conntrack':
      out.match('conntrack', 3, conntrackStateInfo(match.states, !!match.negate));
      return true;
    case 'addrtype': {
      const { sourceType, destinationType, negateSource, negateDestination } = match;
      out.match(
        'addrtype',
        1,
        addrtypeInfo(sourceType, destinationType, !!negateSource, !!negateDestination),
      );
      return true;
    }
    case 'mark': {
      // add_nft_mark: meta mark (host order), masked unless the mask is all ones.
      const mask = match.mask ?? 0xffffffff;
      out.meta(MetaKey.mark);
      if (mask >>> 0 !== 0xffffffff) out.mask(le32(mask));
      out.cmp(op(match.negate), le32(match.value));
      return true;
    }
    case 'port':
      return writePortMatch(out, match, where);
    case 'module':
      // `-m nfacct --nfacct-name NAME` (kube-proxy's localhost NodePort and INVALID counters).
      if (match.module === 'nfacct' && match.args.length === 2 && match.args[0] === '--nfacct-name') {
        out.match('nfacct', 1, nfacctInfo(match.args[1] as string));
        return true;
      }
      // `-m tcp` / `-m udp` / `-m sctp` alone: iptables keeps the xt match, so iptables-save prints it.
      if (match.args.length > 0) return false;
      if (match.module === 'tcp' || match.module === 'udp') out.match(match.module, 0, tcpUdpAnyInfo());
      else if (match.module === 'sctp') out.match('sctp', 0, sctpInfo(undefined, undefined, false, false));
      else return false;
      return true;
    default:
      return false;
  }
}

/** `-m tcp|udp --sport/--dport` natively (add_nft_tcpudp), `-m sctp` as the xt match. */
function writePortMatch(
  out: ExpressionWriter,
  match: Extract<Match, { kind: 'port' }>,
  where: Place,
): boolean {
  const { sourcePort, destinationPort, negateSource, negateDestination } = match;
  if (match.protocol === 'sctp') {
    out.match('sctp', 0, sctpInfo(sourcePort, destinationPort, !!negateSource, !!negateDestination));
    return true;
  }
  // Both directions at once take iptables' combined 4-byte compare; not reproduced here.
  if (sourcePort !== undefined && destinationPort !== undefined) return false;
  if (sourcePort !== undefined) writePorts(out, 0, sourcePort, negateSource, where);
  else if (destinationPort !== undefined) writePorts(out, 2, destinationPort, negateDestination, where);
  else return false;
  return true;
}

/** Writes the target as iptables-nft would; false when this file has no exact translation. */
export function writeTarget(out: ExpressionWriter, family: IpFamily, target: Target): boolean {
  switch (target.kind) {
    case 'verdict':
      out.verdict(Verdict[target.verdict]);
      return true;
    case 'jump':
      out.verdict(target.goto ? Verdict.GOTO : Verdict.JUMP, target.chain);
      return true;
    case 'reject': {
      const info = rejectInfo(family, target.with);
      if (info) out.target('REJECT', 0, info);
      return info !== undefined;
    }
    case 'dnat':
      writeDnatInfo(
        out.bytes,
        out.compatInPlace('target', 'DNAT', 2, DNAT_INFO_LENGTH),
        target.toDestination,
        family,
        !!target.random,
        !!target.persistent,
      );
      return true;
    case 'masquerade':
      if (target.toPorts !== undefined) return false;
      out.target('MASQUERADE', 0, masqueradeInfo(family, !!target.randomFully, !!target.random));
      return true;
    case 'mark':
      out.target('MARK', 2, markTargetInfo(...markOperands(target)));
      return true;
    default:
      return false;
  }
}

/** libxt_MARK's translation of each operation to (mark, mask): the kernel computes (m & ~mask) ^ mark. */
function markOperands(target: Extract<Target, { kind: 'mark' }>): [number, number] {
  switch (target.op) {
    case 'or':
      return [target.value, target.value];
    case 'xor':
      return [target.value, 0];
    case 'and':
      return [0, ~target.value >>> 0];
    case 'set':
      return [target.value, 0xffffffff];
    case 'xset':
      return [target.value, target.mask];
  }
}
