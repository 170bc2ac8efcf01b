// Addresses and prefixes as the bytes iptables puts in payload comparisons and xt structs.

import { isIPv4, isIPv6 } from 'node:net';
import { ipAddressBytes } from '@nodeagent/primitives/netlink';
import { InvalidFieldError } from '../../errors';
import type { IpFamily } from '../model';
import type { Place } from './place';

/** An address of `family` in network order: 4 bytes (IPv4) or 16 (IPv6). */
export function addressBytes(address: string, family: IpFamily, field: Place): Buffer {
  if (family === 'ipv4') {
    const bytes = ipv4Bytes(address);
    if (!bytes) throw new InvalidFieldError(String(field), address, 'is not an IPv4 address');
    return bytes;
  }
  if (!isIPv6(address)) throw new InvalidFieldError(String(field), address, 'is not an IPv6 address');
  return ipAddressBytes(address) as Buffer;
}

/**
 * A dotted quad read digit by digit (a full sync reads one per endpoint rule, and isIPv4's
 * regular expression plus a split cost several times more); undefined when it is not one.
 */
export function ipv4Bytes(text: string): Buffer | undefined {
  const bytes = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // '.' ends the last part
    if (c >= 48 && c <= 57) {
      // No leading zeros (isIPv4 refuses them too): "010" is not 10.
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46 && digits > 0 && part < 4) {
      bytes[part++] = value;
      value = 0;
      digits = 0;
    } else return undefined;
  }
  return part === 4 ? bytes : undefined;
}

/** `-s`/`-d` text (`a.b.c.d`, `a.b.c.d/len`, `a.b.c.d/mask`) as address and mask bytes. */
export function cidrBytes(text: string, family: IpFamily, field: Place): { address: Buffer; mask: Buffer } {
  const slash = text.indexOf('/');
  const address = addressBytes(slash < 0 ? text : text.slice(0, slash), family, field);
  const width = address.length * 8;
  let mask: Buffer;
  const suffix = slash < 0 ? undefined : text.slice(slash + 1);
  if (suffix === undefined) mask = Buffer.alloc(address.length, 0xff);
  else if (/^\d+$/.test(suffix) && Number(suffix) <= width) mask = prefixMask(Number(suffix), address.length);
  else if (family === 'ipv4' && isIPv4(suffix)) mask = addressBytes(suffix, family, field);
  else throw new InvalidFieldError(String(field), text, `has no valid prefix length (0-${width})`);
  // iptables stores the address with the host bits cleared.
  for (let i = 0; i < address.length; i++) address[i] = (address[i] as number) & (mask[i] as number);
  return { address, mask };
}

function prefixMask(length: number, bytes: number): Buffer {
  const mask = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) {
    const bits = Math.max(0, Math.min(8, length - i * 8));
    mask[i] = (0xff00 >> bits) & 0xff;
  }
  return mask;
}
