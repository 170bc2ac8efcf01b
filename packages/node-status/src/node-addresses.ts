import { networkInterfaces } from 'node:os';

/** One entry of a Node's status.addresses (InternalIP, Hostname, …). */
export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname';
  address: string;
}

/**
 * InternalIP(s) from --node-ip, else the first non-loopback IPv4 (then IPv6) of the host, plus
 * the Hostname address — the kubelet's behaviour without a cloud provider.
 *
 * The host's interfaces are read only when no node IP is given (`interfaces` stands in for them
 * in tests). The read is getifaddrs(3): a netlink dump that runs on the calling thread, the event
 * loop's, and waits in the kernel for the rtnl lock while anything else holds it. On a node whose
 * pods come and go, the network plugin adding and removing their interfaces holds it: a kubelet
 * that read them at every status update stopped there for up to 0.65 s in the soak bench.
 */
export function nodeAddresses(
  nodeIPs: readonly string[],
  hostname: string,
  interfaces?: ReturnType<typeof networkInterfaces>,
): NodeAddress[] {
  let ips = [...nodeIPs];
  if (ips.length === 0) {
    const all = Object.values(interfaces ?? networkInterfaces())
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
