import { isIP } from 'node:net';
import { packIPv4 } from './packed-ipv4';
import { type ParsedIP, parseCIDRSloppy, parseIPSloppy, unmapIPv4 } from './parse-ip';

/** One proxier serves one IP family; dual-stack runs two. */
export type IPFamily = 'IPv4' | 'IPv6';

/**
 * The family of an address or CIDR as upstream's netutils.IPFamilyOfString /
 * IPFamilyOfCIDRString see it: parsed sloppily (`010.1.2.3` is IPv4), an IPv4-mapped IPv6
 * address (`::ffff:1.2.3.4`) is IPv4 (Go's To4), and so is an IPv4-mapped CIDR whose prefix
 * keeps the `ffff` (>= 96: `::ffff:10.0.0.0/104`). Undefined for text that does not parse
 * (zones, IPv4 shorthands, a prefix out of range).
 */
export function ipFamilyOf(address: string): IPFamily | undefined {
  const slash = address.indexOf('/');
  if (slash < 0) {
    // Fast path for the common forms, called per endpoint on every sync: Node's isIP accepts a
    // subset of what the sloppy parser does, and an IPv6 text can only be IPv4-mapped if it
    // spells the `ffff` group. A canonical dotted quad (every cluster IP and pod address) packs
    // without isIP's regular expression (each Service's cluster IPs at start-up: 1M endpoints'
    // 20,000 Services spent ~20 ms in it).
    if (packIPv4(address) !== undefined) return 'IPv4';
    const v = isIP(address);
    if (v === 4) return 'IPv4';
    if (v === 6 && !address.includes('%') && !/ffff/i.test(address)) return 'IPv6';
    const parsed = parseIPSloppy(address);
    return parsed === undefined ? undefined : familyOfParsed(unmapIPv4(parsed));
  }
  const cidr = parseCIDRSloppy(address);
  if (cidr === undefined) return undefined;
  // Go masks a CIDR's address, so below /96 the `ffff` that makes it IPv4-mapped is gone.
  return cidr.bits >= 96 || cidr.address.kind() === 'ipv4' ? familyOfParsed(unmapIPv4(cidr.address)) : 'IPv6';
}

function familyOfParsed(address: ParsedIP): IPFamily {
  return address.kind() === 'ipv4' ? 'IPv4' : 'IPv6';
}

/** "ip:port", bracketing IPv6 as Go's net.JoinHostPort does (used in chain hashes and conntrack). */
export function joinHostPort(ip: string, port: number): string {
  // Array.join: a flat string (a template of 13+ characters is a V8 cons string holding its
  // pieces; every endpoint keeps this one for its lifetime).
  return ip.includes(':') ? ['[', ip, ']:', port].join('') : [ip, ':', port].join('');
}
