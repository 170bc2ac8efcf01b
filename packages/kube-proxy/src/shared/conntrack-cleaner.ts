import { runCommand } from '@nodeagent/primitives';
import type { IPFamily } from '../model/ip-family';

/**
 * Removes UDP conntrack entries that would keep steering packets to a backend (or a REJECT)
 * that no longer applies; UDP has no connection close to end them.
 */
export interface ConntrackCleaner {
  /** Entries whose original destination is this (service) IP. */
  clearByDestination(ip: string, protocol: 'udp' | 'sctp'): Promise<void>;
  /** Entries for service IP `origDst` NATed to backend `endpointIP`. */
  clearByNAT(origDst: string, endpointIP: string, protocol: 'udp' | 'sctp'): Promise<void>;
  /** Entries whose original destination port is `port` (a NodePort), on any address. */
  clearByPort(port: number, protocol: 'udp' | 'sctp'): Promise<void>;
  /** Entries for destination port `port` (a NodePort) NATed to backend `endpointIP`. */
  clearByPortNAT(port: number, endpointIP: string, protocol: 'udp' | 'sctp'): Promise<void>;
}

/** ConntrackCleaner over the `conntrack` tool; "no entries matched" (exit 1) is not an error. */
export function execConntrack(family: IPFamily, commandPrefix: readonly string[] = []): ConntrackCleaner {
  const fam = family === 'IPv6' ? 'ipv6' : 'ipv4';
  /** `conntrack -D` of one protocol's entries matching every filter given. */
  const remove = async (protocol: string, ...filters: string[]) => {
    await runCommand([...commandPrefix, 'conntrack', '-D', '-f', fam, '-p', protocol, ...filters]);
  };
  return {
    clearByDestination: (ip, protocol) => remove(protocol, '--orig-dst', ip),
    clearByNAT: (origDst, endpointIP, protocol) =>
      remove(protocol, '--orig-dst', origDst, '--dst-nat', endpointIP),
    clearByPort: (port, protocol) => remove(protocol, '--orig-port-dst', String(port)),
    clearByPortNAT: (port, endpointIP, protocol) =>
      remove(protocol, '--orig-port-dst', String(port), '--dst-nat', endpointIP),
  };
}
