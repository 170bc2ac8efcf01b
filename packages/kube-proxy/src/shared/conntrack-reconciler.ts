import { type ConntrackFlow, IPPROTO_UDP } from '@nodeagent/netfilter';
import type { EndpointInfo } from '../model/endpoint';
import { joinHostPort } from '../model/ip-family';
import type { ServicePort } from '../model/service-port';
import { type ConntrackCleaner, deletedDespite } from './conntrack-cleaner';

/** What one reconcile did: entries deleted, and the error that cut it short, if any. */
export interface ConntrackReconcileResult {
  /** The table was listed (upstream records its metrics only then). */
  listed: boolean;
  deleted: number;
  error?: unknown;
}

/** Serving endpoints ("ip:port") of every UDP Service port with any, by service IP:port and by NodePort. */
function servingByFrontend(
  services: ReadonlyMap<string, ServicePort>,
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>,
): { byServiceIP: Map<string, Set<string>>; byNodePort: Map<number, Set<string>> } {
  const byServiceIP = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  for (const [key, sp] of services) {
    if (sp.protocol !== 'UDP') continue;
    // Serving, whatever the traffic policy, topology or terminating state: a change of the
    // Service must not cut existing flows, as for TCP.
    const serving = new Set<string>();
    for (const ep of endpoints.get(key) ?? []) if (ep.serving) serving.add(ep.endpoint);
    // A Service without serving endpoints needs no cleanup (its packets are rejected).
    if (serving.size === 0) continue;
    for (const ip of [sp.clusterIP, ...sp.loadBalancerVIPs, ...sp.externalIPs])
      if (ip !== '') byServiceIP.set(joinHostPort(ip, sp.port), serving);
    if (sp.nodePort !== 0) byNodePort.set(sp.nodePort, serving);
  }
  return { byServiceIP, byNodePort };
}

/**
 * The UDP entries to delete: original destination a service IP:port (or, failing that, a
 * NodePort on any address) whose reply source IP:port is not one of that Service's serving
 * endpoints.
 */
export function staleConntrackEntries(
  entries: readonly ConntrackFlow[],
  services: ReadonlyMap<string, ServicePort>,
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>,
): ConntrackFlow[] {
  const { byServiceIP, byNodePort } = servingByFrontend(services, endpoints);
  const stale: ConntrackFlow[] = [];
  for (const entry of entries) {
    if (entry.original.protocol !== IPPROTO_UDP) continue;
    const backend = joinHostPort(entry.reply.src, entry.reply.srcPort);
    const viaIP = byServiceIP.get(joinHostPort(entry.original.dst, entry.original.dstPort));
    if (viaIP && !viaIP.has(backend)) {
      stale.push(entry);
      continue;
    }
    const viaNodePort = byNodePort.get(entry.original.dstPort);
    if (viaNodePort && !viaNodePort.has(backend)) stale.push(entry);
  }
  return stale;
}

/**
 * Upstream's conntrack.CleanStaleEntries: lists the family's conntrack table and deletes every
 * UDP entry bound for a Service (cluster IP, LoadBalancer VIP, external IP, or NodePort) that
 * is not NATed to one of its serving endpoints. A failed list deletes nothing.
 */
export async function reconcileConntrack(
  ct: ConntrackCleaner,
  services: ReadonlyMap<string, ServicePort>,
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>,
): Promise<ConntrackReconcileResult> {
  let entries: readonly ConntrackFlow[];
  try {
    entries = await ct.listEntries();
  } catch (error) {
    return { listed: false, deleted: 0, error };
  }
  const stale = staleConntrackEntries(entries, services, endpoints);
  try {
    return { listed: true, deleted: await ct.deleteEntries(stale) };
  } catch (error) {
    return { listed: true, deleted: deletedDespite(error), error };
  }
}
