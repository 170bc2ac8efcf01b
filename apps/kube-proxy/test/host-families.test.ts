import { describe, expect, it } from 'vitest';
import { hostFamilies } from '../src/host-families';

const host = (files: string[]) => ({ path: '/sbin', exists: (p: string) => files.includes(p) });
const full = host(['/sbin/iptables', '/sbin/ip6tables', '/proc/net/if_inet6']);

describe("the families served, as upstream's platformCheckSupported decides", () => {
  it('both when the host can do both, whatever clusterCIDR holds; primary first', () => {
    expect(hostFamilies('iptables', 'IPv4', full)).toEqual(['IPv4', 'IPv6']);
    expect(hostFamilies('ipvs', 'IPv6', full)).toEqual(['IPv6', 'IPv4']);
    expect(hostFamilies('nftables', 'IPv4', host(['/proc/net/if_inet6']))).toEqual(['IPv4', 'IPv6']);
  });

  it('the primary family alone without IPv6 in the kernel or without ip6tables', () => {
    expect(hostFamilies('iptables', 'IPv4', host(['/sbin/iptables', '/sbin/ip6tables']))).toEqual(['IPv4']);
    expect(hostFamilies('iptables', 'IPv4', host(['/sbin/iptables', '/proc/net/if_inet6']))).toEqual([
      'IPv4',
    ]);
    expect(hostFamilies('nftables', 'IPv4', host([]))).toEqual(['IPv4']);
  });
});
