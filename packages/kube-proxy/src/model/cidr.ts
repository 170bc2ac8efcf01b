import type ipaddr from 'ipaddr.js';
import { parseCIDRSloppy, parseIPSloppy, unmapIPv4 } from './parse-ip';

/**
 * Whether `ip` lies inside `cidr`, like Go's IPNet.Contains on netutils' sloppy parses: same
 * family only, where an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) counts as the IPv4 address it
 * maps and an IPv4-mapped IPv6 CIDR (`::ffff:10.0.0.0/104`) as its IPv4 part (prefix minus 96).
 * Text that does not parse matches nothing.
 */
export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCIDRSloppy(cidr);
  const parsed = parseIPSloppy(ip);
  if (!net || !parsed) return false;
  const address = unmapIPv4(parsed);
  let network = net.address;
  let bits = net.bits;
  const unmapped = unmapIPv4(network);
  if (unmapped !== network) {
    // Go keeps the last 4 bytes of the mask, so a prefix shorter than 96 leaves no IPv4 bits.
    network = unmapped;
    bits = Math.max(0, bits - 96);
  }
  if (address.kind() === 'ipv4') {
    return network.kind() === 'ipv4' && (address as ipaddr.IPv4).match(network as ipaddr.IPv4, bits);
  }
  return network.kind() === 'ipv6' && (address as ipaddr.IPv6).match(network as ipaddr.IPv6, bits);
}
