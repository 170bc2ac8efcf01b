import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import { type NodeFacts, nodePortIPsFromConfig } from '../shared/backend-options-from-config';
import { type NftablesBackendOptions, nftLocalDetector } from './nftables-options';

/** Everything the nftables backend takes from the configuration, for one family. */
export function nftablesOptionsFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  node: NodeFacts = {},
): NftablesBackendOptions {
  const ofFamily = (cidrs: readonly string[]) =>
    cidrs.map((s) => s.trim()).find((s) => s && ipFamilyOf(s) === family);
  let mode: Parameters<typeof nftLocalDetector>[0];
  if (c.detectLocalMode === '' || c.detectLocalMode === 'ClusterCIDR') {
    const cidr = ofFamily(c.clusterCIDR.split(','));
    mode = cidr ? { cidr, ipv6: family === 'IPv6' } : undefined;
  } else if (c.detectLocalMode === 'NodeCIDR') {
    const cidr = ofFamily(node.podCIDRs ?? []);
    mode = cidr ? { cidr, ipv6: family === 'IPv6' } : undefined;
  } else if (c.detectLocalMode === 'BridgeInterface') mode = { bridge: c.detectLocal.bridgeInterface };
  else if (c.detectLocalMode === 'InterfaceNamePrefix')
    mode = { interfacePrefix: c.detectLocal.interfaceNamePrefix };
  return {
    masqueradeBit: c.nftables.masqueradeBit ?? 14,
    masqueradeAll: c.nftables.masqueradeAll,
    localDetector: nftLocalDetector(mode),
    nodePortIPs: nodePortIPsFromConfig(c, family, node),
    nodeIP: (node.nodeIPs ?? []).find((ip) => ipFamilyOf(ip) === family),
  };
}
