import ipaddr from 'ipaddr.js';

/** A parsed address: ipaddr.js's IPv4 or IPv6 value. */
export type ParsedIP = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed CIDR: its address and prefix length, both as written (no masking). */
export interface ParsedCIDR {
  address: ParsedIP;
  bits: number;
}

/**
 * An IPv4 dotted quad the way upstream's netutils.ParseIPSloppy reads it (Go's pre-1.17
 * net.ParseIP): four decimal fields, each 0-255, leading zeros allowed and read as decimal
 * ("010.001.002.003" is 10.1.2.3, never octal as inet_aton and ipaddr.js's loose parser would).
 */
function parseIPv4Sloppy(text: string): ipaddr.IPv4 | undefined {
  const fields = text.split('.');
  if (fields.length !== 4) return undefined;
  const octets: number[] = [];
  for (const field of fields) {
    if (!/^\d+$/.test(field)) return undefined;
    const value = Number(field);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return new ipaddr.IPv4(octets);
}

/**
 * Parses an IP address like upstream's netutils.ParseIPSloppy: IPv4 with leading zeros allowed,
 * IPv6 in any RFC 4291 text form including an embedded dotted quad (`::ffff:1.2.3.4`). Zones
 * (`fe80::1%eth0`) and IPv4 shorthands (`10.1`, `0x0a.0.0.1`) are rejected, as in Go.
 */
export function parseIPSloppy(text: string): ParsedIP | undefined {
  if (!text.includes(':')) return parseIPv4Sloppy(text);
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let v6 = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // The embedded IPv4 tail is read sloppily too; ipaddr.js then sees two hex groups instead.
    const v4 = parseIPv4Sloppy(tail);
    if (!v4) return undefined;
    const [a, b, c, d] = v4.octets as [number, number, number, number];
    v6 = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : undefined;
}

/**
 * Parses "address/prefix" like upstream's netutils.ParseCIDRSloppy: the address as
 * parseIPSloppy, the prefix decimal (leading zeros allowed) and at most 32 for IPv4 text or 128
 * for IPv6 text (`::ffff:10.0.0.0/104` is an IPv6 CIDR that covers the IPv4 10.0.0.0/8).
 */
export function parseCIDRSloppy(text: string): ParsedCIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIPSloppy(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (!address || !/^\d+$/.test(prefix)) return undefined;
  const bits = Number(prefix);
  return bits <= (address.kind() === 'ipv6' ? 128 : 32) ? { address, bits } : undefined;
}

/** An IPv4-mapped IPv6 address as the IPv4 address it stands for (Go's To4); others unchanged. */
export function unmapIPv4(address: ParsedIP): ParsedIP {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/**
 * Why `value` is not a valid IP for a field, or undefined when it is, with upstream's messages
 * (apimachinery's validation.IsValidIPForLegacyField): sloppy parsing always; with `strict`
 * (upstream's StrictIPCIDRValidation) also no leading zeros and no IPv4-mapped IPv6.
 */
export function ipValidationErrors(value: string, strict: boolean): string[] {
  const address = parseIPSloppy(value);
  if (!address) return ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
  if (!strict) return [];
  const errors: string[] = [];
  if (hasLeadingZero(value)) errors.push('must not have leading 0s');
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    errors.push('must not be an IPv4-mapped IPv6 address');
  }
  return errors;
}

/** Whether a dotted-quad field (of an IPv4 address or an IPv6 address's IPv4 tail) starts with 0. */
function hasLeadingZero(text: string): boolean {
  const dotted = text.slice(text.lastIndexOf(':') + 1);
  return dotted.includes('.') && dotted.split('.').some((field) => field.length > 1 && field.startsWith('0'));
}
