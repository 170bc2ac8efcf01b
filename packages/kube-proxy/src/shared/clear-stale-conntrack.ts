import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServicePort } from '../model/service-port';
import type { ConntrackCleaner } from './conntrack-cleaner';

/** The addresses a Service port is reached on besides NodePorts: cluster IP, external IPs, LB IPs. */
function serviceIPs(sp: ServicePort): string[] {
  return [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerVIPs].filter((ip) => ip !== '');
}

/** "10.0.0.1:53" or "[fd00::1]:53" → the IP. */
function endpointIP(endpoint: string): string {
  return endpoint.startsWith('[')
    ? endpoint.slice(1, endpoint.indexOf(']'))
    : endpoint.slice(0, endpoint.lastIndexOf(':'));
}

/**
 * After a sync, removes the UDP conntrack entries that would keep packets on a path that no
 * longer exists, as upstream does in every mode (UDP has no close to end a flow, so a client
 * that keeps sending would never be re-balanced):
 * - a deleted Service's cluster IP;
 * - a Service that had no endpoints (its packets were rejected, and the reject is remembered)
 *   and now has some: its IPs and NodePort;
 * - an endpoint that went away: flows from the Service's IPs and NodePort NATed to it.
 */
export async function clearStaleConntrack(ct: ConntrackCleaner, snapshot: ProxySnapshot): Promise<void> {
  for (const ip of snapshot.deletedUDPClusterIPs) await ct.clearByDestination(ip, 'udp');
  for (const key of snapshot.newlyActiveUDPServices) {
    const sp = snapshot.services.get(key);
    if (!sp) continue;
    for (const ip of serviceIPs(sp)) await ct.clearByDestination(ip, 'udp');
    if (sp.nodePort > 0) await ct.clearByPort(sp.nodePort, 'udp');
  }
  for (const { servicePortKey, endpoint } of snapshot.deletedUDPEndpoints) {
    const sp = snapshot.services.get(servicePortKey);
    if (!sp) continue;
    const ip = endpointIP(endpoint);
    for (const vip of serviceIPs(sp)) await ct.clearByNAT(vip, ip, 'udp');
    if (sp.nodePort > 0) await ct.clearByPortNAT(sp.nodePort, ip, 'udp');
  }
}
