import { isIP } from 'node:net';

/** One proxier serves one IP family; dual-stack runs two. */
export type IPFamily = 'IPv4' | 'IPv6';

export function ipFamilyOf(address: string): IPFamily | undefined {
  const bare = address.includes('/') ? address.slice(0, address.indexOf('/')) : address;
  const v = isIP(bare);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

/** "ip:port", bracketing IPv6 as Go's net.JoinHostPort does (used in chain hashes and conntrack). */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
