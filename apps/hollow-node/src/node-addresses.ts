/** Where node `index` (from 0) sits: its InternalIP and its pods' /24. */
export interface NodeAddresses {
  hostIP: string;
  podSubnet: string;
}

/**
 * Node i gets 172.16.0.0/12's address i+1 and 10.64.0.0/10's i-th /24 (the hollow-flags limit of
 * 16,384 nodes is what fits there), so pod IPs are unique across the process, as a cluster's
 * node IPAM would make them, and clear of the usual Service range 10.96.0.0/12.
 */
export function nodeAddresses(index: number): NodeAddresses {
  const host = index + 1;
  return {
    hostIP: `172.${16 + (host >> 16)}.${(host >> 8) & 255}.${host & 255}`,
    podSubnet: `10.${64 + (index >> 8)}.${index & 255}.0/24`,
  };
}
