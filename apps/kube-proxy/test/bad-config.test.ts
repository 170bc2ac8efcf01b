import { parseKubeProxyConfiguration } from '@nodeagent/kube-proxy';
import { describe, expect, it } from 'vitest';
import { badConfig } from '../src/bad-config';
import { applyPlatformDefaults } from '../src/resolve-configuration';

const cfg = (o: Record<string, unknown>) => applyPlatformDefaults(parseKubeProxyConfiguration(o));

describe("upstream's checkBadConfig / checkBadIPConfig at start", () => {
  it('unset nodePortAddresses (iptables mode) is warned about; nftables mode defaults to primary and is not', () => {
    expect(badConfig(cfg({ mode: 'iptables' }), 'IPv4', true).warnings).toEqual([
      'nodePortAddresses is unset; NodePort connections will be accepted on all local IPs. Consider using `--nodeport-addresses primary`',
    ]);
    expect(badConfig(cfg({ mode: 'nftables' }), 'IPv4', true)).toEqual({ warnings: [], fatal: [] });
  });

  it('nodePortAddresses of one family only', () => {
    const dual = cfg({ clusterCIDR: '10.0.0.0/16,fd00::/48', nodePortAddresses: ['10.1.0.0/16'] });
    expect(badConfig(dual, 'IPv4', true).warnings).toEqual([
      'cluster appears to be dual-stack but nodePortAddresses contains only IPv4 addresses; NodePort connections will be accepted on all local IPv6 IPs',
    ]);
    const v6only = cfg({ nodePortAddresses: ['fd00::/64'] });
    expect(badConfig(v6only, 'IPv4', true).warnings).toEqual([
      'cluster appears to be IPv4-primary but nodePortAddresses contains only IPv6 addresses; NodePort connections will be accepted on all local IPv4 IPs',
    ]);
  });

  it('a clusterCIDR of the other family only: a warning when dual-stack, fatal when single-stack with ClusterCIDR detection', () => {
    const c = cfg({ clusterCIDR: 'fd00::/48', nodePortAddresses: ['primary'] });
    expect(badConfig(c, 'IPv4', true)).toEqual({
      warnings: ['cluster is IPv4-primary but clusterCIDRs contains only IPv6 addresses'],
      fatal: [],
    });
    expect(badConfig(c, 'IPv4', false)).toEqual({
      warnings: [],
      fatal: ['cluster is IPv4-only but clusterCIDRs contains only IPv6 addresses'],
    });
  });
});
