import ipaddr from 'ipaddr.js';
import { AddressFamilyNumber } from './constants';
import { InvalidFieldError } from './errors';
import type { AddressFamily } from './types';

export function familyNumber(family: AddressFamily): number {
  return family === 'ipv6' ? AddressFamilyNumber.INET6 : AddressFamilyNumber.INET;
}

export function familyFromNumber(n: number, field: string): AddressFamily {
  if (n === AddressFamilyNumber.INET) return 'ipv4';
  if (n === AddressFamilyNumber.INET6) return 'ipv6';
  throw new InvalidFieldError(field, n, 'unknown address family');
}

/** Family of a textual address; only canonical dotted-quad IPv4 and RFC 4291 IPv6 are accepted. */
export function addressFamily(address: string, field: string): AddressFamily {
  if (typeof address === 'string') {
    if (ipaddr.IPv4.isValidFourPartDecimal(address)) return 'ipv4';
    if (ipaddr.IPv6.isValid(address) && !address.includes('%')) return 'ipv6';
  }
  throw new InvalidFieldError(field, address, 'not an IPv4 or IPv6 address');
}

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first 4 (what the kernel sends back too). */
export function encodeAddress(address: string, field: string): Buffer {
  addressFamily(address, field);
  const out = Buffer.alloc(16);
  out.set(ipaddr.parse(address).toByteArray(), 0);
  return out;
}

export function decodeAddress(bytes: Buffer, family: AddressFamily): string {
  if (family === 'ipv4') return ipaddr.fromByteArray([...bytes.subarray(0, 4)]).toString();
  return ipaddr.fromByteArray([...bytes.subarray(0, 16)]).toString();
}

/** IPv4 prefix length ↔ the big-endian mask the kernel stores for persistence. */
export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function maskToPrefix(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && mask & (1 << bit); bit--) n++;
  return n;
}
