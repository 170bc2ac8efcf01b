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

// Dotted quad, each part 0-255 without leading zeros (which some parsers read as octal).
const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);

/** Family of a textual address; only canonical dotted-quad IPv4 and RFC 4291 IPv6 are accepted. */
export function addressFamily(address: string, field: string): AddressFamily {
  if (typeof address === 'string') {
    // The IPv4 check is a single regex: it runs once per request in bulk updates.
    if (ipv4Pattern.test(address)) return 'ipv4';
    if (address.includes(':') && !address.includes('%') && ipaddr.IPv6.isValid(address)) return 'ipv6';
  }
  throw new InvalidFieldError(field, address, 'not an IPv4 or IPv6 address');
}

/** Writes union nf_inet_addr (16 bytes; IPv4 in the first 4, the rest zero) at `at`. */
export function writeAddress(buf: Buffer, at: number, address: string, field: string): void {
  if (addressFamily(address, field) === 'ipv4') {
    let p = 0;
    let start = 0;
    for (let i = 0; i <= address.length; i++) {
      if (i === address.length || address.charCodeAt(i) === 46) {
        buf[at + p++] = Number(address.slice(start, i));
        start = i + 1;
      }
    }
    return;
  }
  buf.set(ipaddr.parse(address).toByteArray(), at);
}

/**
 * Writes an already validated address of a known family as union nf_inet_addr: all 16 bytes
 * at `at`, IPv4 in the first 4 and zeroes after. The encoder of every request: it runs once per
 * message in bulk updates, so no second validation and no substrings for IPv4.
 */
export function writeNormalizedAddress(
  buf: Buffer,
  at: number,
  address: string,
  family: AddressFamily,
): void {
  if (family === 'ipv6') {
    buf.set(ipaddr.parse(address).toByteArray(), at);
    return;
  }
  let p = at;
  let octetValue = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      buf[p++] = octetValue;
      octetValue = 0;
    } else octetValue = octetValue * 10 + (c - 48);
  }
  buf[p++] = octetValue;
  for (; p < at + 16; p++) buf[p] = 0;
}

/** union nf_inet_addr as a fresh 16-byte buffer. */
export function encodeAddress(address: string, field: string): Buffer {
  const out = Buffer.alloc(16);
  writeAddress(out, 0, address, field);
  return out;
}

export function decodeAddress(bytes: Buffer, family: AddressFamily): string {
  if (family === 'ipv4') return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
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
