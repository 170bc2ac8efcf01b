import { joinHostPort } from '@nodeagent/primitives/go-text';
import ipaddr from 'ipaddr.js';

/**
 * Canonical text of an address (IPv6 compressed, lower case), so addresses read back from the
 * kernel compare equal to the ones we planned.
 */
export function canonicalIP(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return ipaddr.parse(ip).toString();
  } catch {
    return ip;
  }
}

/** Key of a virtual server: "TCP/10.96.0.1:80" (protocol upper case, as ipvsadm prints it). */
export function virtualServerKey(protocol: string, address: string, port: number): string {
  return `${protocol.toUpperCase()}/${joinHostPort(canonicalIP(address), port)}`;
}

/** Key of a real server within its virtual server: "10.244.0.5:8080". */
export function realServerKey(address: string, port: number): string {
  return joinHostPort(canonicalIP(address), port);
}
