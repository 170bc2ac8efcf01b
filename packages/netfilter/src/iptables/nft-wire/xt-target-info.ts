// The xt target structs iptables-nft 1.8.9 hands to nft_compat (NFTA_TARGET_INFO) for the
// targets kube-proxy writes: DNAT (revision 2), MASQUERADE, MARK (revision 2), REJECT. Layouts
// are the kernel's uapi structs on a 64-bit host, sized XT_ALIGN (8) as iptables sends them.

import { InvalidFieldError } from '../../errors';
import type { IpFamily } from '../model';
import { addressBytes, ipv4Bytes } from './address-bytes';

/** NF_NAT_RANGE_* flags. */
const MAP_IPS = 1;
const PROTO_SPECIFIED = 2;
const PROTO_RANDOM = 4;
const PERSISTENT = 8;
const PROTO_RANDOM_FULLY = 16;

/** `ip[:port]` or `[ip6]:port` (or a bare IPv6 address) split as iptables' DNAT parser reads it. */
function splitDestination(text: string, family: IpFamily): { address: string; port?: number } {
  let address = text;
  let port: string | undefined;
  if (family === 'ipv6') {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (bracketed) {
      address = bracketed[1] as string;
      port = bracketed[2];
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      address = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
  }
  const portNumber = port === undefined ? undefined : Number(port);
  if (portNumber !== undefined && !(Number.isInteger(portNumber) && portNumber > 0 && portNumber <= 0xffff))
    throw new InvalidFieldError('--to-destination', text, 'has no valid port (1-65535)');
  return portNumber === undefined ? { address } : { address, port: portNumber };
}

/** nf_nat_range2 as iptables sends it: 42 bytes padded to 48. */
export const DNAT_INFO_LENGTH = 48;

/**
 * nf_nat_range2 (DNAT revision 2): u32 flags, min/max address (16 bytes each), min/max/base
 * proto (2 bytes each, network order); 42 bytes sent as 48.
 */
export function dnatInfo(
  toDestination: string,
  family: IpFamily,
  random: boolean,
  persistent: boolean,
): Buffer {
  const info = Buffer.alloc(DNAT_INFO_LENGTH);
  writeDnatInfo(info, 0, toDestination, family, random, persistent);
  return info;
}

/** nf_nat_range2 written at `at` of `out`, whose 48 bytes there are zero. */
export function writeDnatInfo(
  out: Buffer,
  at: number,
  toDestination: string,
  family: IpFamily,
  random: boolean,
  persistent: boolean,
): void {
  const { address, port } = splitDestination(toDestination, family);
  const bytes = family === 'ipv4' ? ipv4Bytes(address) : addressBytes(address, family, '--to-destination');
  if (!bytes) throw new InvalidFieldError('--to-destination', toDestination, 'is not an IPv4 address[:port]');
  let flags = MAP_IPS | (random ? PROTO_RANDOM : 0) | (persistent ? PERSISTENT : 0);
  bytes.copy(out, at + 4);
  bytes.copy(out, at + 20);
  if (port !== undefined) {
    flags |= PROTO_SPECIFIED;
    out.writeUInt16BE(port, at + 36);
    out.writeUInt16BE(port, at + 38);
  }
  out.writeUInt32LE(flags, at);
}

/**
 * MASQUERADE revision 0. IPv4: nf_nat_ipv4_multi_range_compat (u32 rangesize = 1, then one
 * range: u32 flags, min/max ip, min/max proto; 20 bytes sent as 24). IPv6: nf_nat_range
 * (u32 flags, two 16-byte addresses, two protos; 40 bytes).
 */
export function masqueradeInfo(family: IpFamily, randomFully: boolean, random: boolean): Buffer {
  const flags = (randomFully ? PROTO_RANDOM_FULLY : 0) | (random ? PROTO_RANDOM : 0);
  if (family === 'ipv6') {
    const info = Buffer.alloc(40);
    info.writeUInt32LE(flags, 0);
    return info;
  }
  const info = Buffer.alloc(24);
  info.writeUInt32LE(1, 0);
  info.writeUInt32LE(flags, 4);
  return info;
}

/** xt_mark_tginfo2: u32 mark, u32 mask, as libxt_MARK turns each operation into an xset. */
export function markTargetInfo(mark: number, mask: number): Buffer {
  const info = Buffer.alloc(8);
  info.writeUInt32LE(mark >>> 0, 0);
  info.writeUInt32LE(mask >>> 0, 4);
  return info;
}

/** enum ipt_reject_with (IPv4) by its --reject-with names (libipt_REJECT's long and short). */
const REJECT_WITH_V4: Readonly<Record<string, number>> = {
  'icmp-net-unreachable': 0,
  'net-unreach': 0,
  'icmp-host-unreachable': 1,
  'host-unreach': 1,
  'icmp-proto-unreachable': 2,
  'proto-unreach': 2,
  'icmp-port-unreachable': 3,
  'port-unreach': 3,
  'icmp-net-prohibited': 5,
  'net-prohib': 5,
  'icmp-host-prohibited': 6,
  'host-prohib': 6,
  'tcp-reset': 7,
  'tcp-rst': 7,
  'icmp-admin-prohibited': 8,
  'admin-prohib': 8,
};

/** enum ip6t_reject_with (IPv6) by its --reject-with names. */
const REJECT_WITH_V6: Readonly<Record<string, number>> = {
  'icmp6-no-route': 0,
  'no-route': 0,
  'icmp6-adm-prohibited': 1,
  'adm-prohibited': 1,
  'icmp6-not-neighbour': 2,
  'not-neighbour': 2,
  'icmp6-addr-unreachable': 3,
  'addr-unreach': 3,
  'icmp6-port-unreachable': 4,
  'port-unreach': 4,
  'tcp-reset': 6,
  'tcp-rst': 6,
  'icmp6-policy-fail': 7,
  'policy-fail': 7,
  'icmp6-reject-route': 8,
  'reject-route': 8,
};

/** ipt_reject_info / ip6t_reject_info: u32 with (default: port unreachable); 4 bytes sent as 8. */
export function rejectInfo(family: IpFamily, withName: string | undefined): Buffer | undefined {
  const table = family === 'ipv6' ? REJECT_WITH_V6 : REJECT_WITH_V4;
  const code = table[withName ?? (family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable')];
  if (code === undefined) return undefined;
  const info = Buffer.alloc(8);
  info.writeUInt32LE(code, 0);
  return info;
}
