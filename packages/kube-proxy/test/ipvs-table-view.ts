import type { DestinationKey, IpvsHandle, Protocol, ServiceKey } from '@nodeagent/ipvs';
import { realServerKey, virtualServerKey } from '../src/ipvs/virtual-server-key';

/** "TCP/10.96.0.10:80" (or "UDP/[fd00::1]:53") as an IPVS service key. */
export function vs(key: string): ServiceKey {
  const m = /^(TCP|UDP|SCTP)\/(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(key);
  if (!m) throw new Error(`not a virtual server key: ${key}`);
  return { protocol: m[1]!.toLowerCase() as Protocol, address: (m[2] ?? m[3])!, port: Number(m[4]) };
}

/** "10.244.1.2:8080" (or "[fd00::2]:8080") as a destination key. */
export function rs(key: string): DestinationKey {
  const m = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(key);
  if (!m) throw new Error(`not a real server key: ${key}`);
  return { address: (m[1] ?? m[2])!, port: Number(m[3]) };
}

/** The table as "TCP/10.96.0.10:80" → ["10.244.1.1:8080 w1", …] (sorted), for assertions. */
export async function ipvsTable(ipvs: Pick<IpvsHandle, 'listServices' | 'listDestinations'>) {
  const out: Record<string, string[]> = {};
  const services = await ipvs.listServices();
  const keyed = services.map(
    (s) => [s.fwmark ? `FWM/${s.fwmark}` : virtualServerKey(s.protocol!, s.address!, s.port!), s] as const,
  );
  for (const [key, s] of keyed.sort(([a], [b]) => a.localeCompare(b))) {
    const dests = await ipvs.listDestinations(
      s.fwmark
        ? { fwmark: s.fwmark, family: s.family }
        : { protocol: s.protocol!, address: s.address!, port: s.port! },
    );
    out[key] = dests.map((d) => `${realServerKey(d.address, d.port)} w${d.weight}`).sort();
  }
  return out;
}
