import { networkInterfaces } from 'node:os';

/** One entry of a Node's status.addresses (InternalIP, Hostname, …). */
export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname';
  address: string;
}

/**
 * InternalIP(s) from --node-ip, else the first non-loopback IPv4 (then IPv6) of the host, plus
 * the Hostname address — the kubelet's behaviour without a cloud provider.
 */
export function nodeAddresses(
  nodeIPs: readonly string[],
  hostname: string,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): NodeAddress[] {
  let ips = [...nodeIPs];
  if (ips.length === 0) {
    const all = Object.values(interfaces)
      .flat()
      .filter((i) => i && !i.internal);
    const v4 = all.find((i) => i?.family === 'IPv4');
    const v6 = all.find((i) => i?.family === 'IPv6' && !i.address.startsWith('fe80'));
    const pick = v4 ?? v6;
    if (pick) ips = [pick.address];
  }
  return [
    ...ips.map((address): NodeAddress => ({ type: 'InternalIP', address })),
    { type: 'Hostname', address: hostname },
  ];
}
