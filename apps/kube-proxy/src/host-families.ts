import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { IPFamily } from '@nodeagent/kube-proxy';

export interface HostProbe {
  /** Whether a path exists (default: the file system). */
  exists?: (path: string) => boolean;
  /** PATH to look binaries up in. */
  path?: string;
}

/** Whether `name` is an executable's name on PATH. */
function onPath(name: string, probe: HostProbe): boolean {
  const exists = probe.exists ?? existsSync;
  return (probe.path ?? process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => exists(join(dir, name)));
}

/**
 * The families the proxy serves, as upstream's platformCheckSupported decides: both whenever the
 * host can do both (the kernel has IPv6, /proc/net/if_inet6, and for the iptables-based modes
 * ip6tables is installed), whatever clusterCIDR holds; else the primary family alone. So an
 * IPv4 cluster on an IPv6-capable node gets upstream's (empty) ip6tables chains as well.
 */
export function hostFamilies(mode: string, primary: IPFamily, probe: HostProbe = {}): IPFamily[] {
  const exists = probe.exists ?? existsSync;
  const nft = mode === 'nftables';
  const ipv4 = nft || onPath('iptables', probe);
  const ipv6 = (nft || onPath('ip6tables', probe)) && exists('/proc/net/if_inet6');
  if (!(ipv4 && ipv6)) return [primary];
  return primary === 'IPv4' ? ['IPv4', 'IPv6'] : ['IPv6', 'IPv4'];
}
