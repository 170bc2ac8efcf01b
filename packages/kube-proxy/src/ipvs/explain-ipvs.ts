import type { Destination, Service } from '@nodeagent/ipvs';
import { joinHostPort } from '@nodeagent/primitives/go-text';
import { compareStrings } from '../model/compare-strings';
import type { IpvsTable } from './ipvs-kernel';

/** One live virtual server with its real servers, as read from the kernel. */
export interface LiveVirtualServer {
  readonly service: Service;
  readonly destinations: readonly Destination[];
}

/**
 * Reads the live IPVS table (optionally only virtual servers on `address`), sorted as
 * `ipvsadm -Ln` sorts nothing but people expect: by protocol, address, port.
 */
export async function readIpvsTable(ipvs: IpvsTable, address?: string): Promise<LiveVirtualServer[]> {
  const out: LiveVirtualServer[] = [];
  for (const s of await ipvs.listServices()) {
    if (s.fwmark || !s.address || !s.protocol || !s.port) continue;
    if (address !== undefined && s.address !== address) continue;
    const destinations = await ipvs.listDestinations({
      protocol: s.protocol,
      address: s.address,
      port: s.port,
    });
    out.push({ service: s, destinations });
  }
  return out.sort(
    (a, b) =>
      compareStrings(a.service.protocol!, b.service.protocol!) ||
      compareStrings(a.service.address!, b.service.address!) ||
      a.service.port! - b.service.port!,
  );
}

/** `ipvsadm -Ln`-like text of a table read by readIpvsTable. */
export function formatIpvsTable(table: readonly LiveVirtualServer[]): string {
  const lines = [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  const fwd = { masquerade: 'Masq', local: 'Local', tunnel: 'Tunnel', 'direct-route': 'Route' } as const;
  for (const { service: s, destinations } of table) {
    const persist = s.flags.persistent ? ` persistent ${s.timeout}` : '';
    lines.push(
      `${s.protocol!.toUpperCase().padEnd(4)} ${joinHostPort(s.address!, s.port!)} ${s.scheduler}${persist}`,
    );
    for (const d of destinations) {
      lines.push(
        `  -> ${joinHostPort(d.address, d.port).padEnd(28)} ${fwd[d.forwarding].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConnections).padEnd(10)} ${d.inactiveConnections}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
