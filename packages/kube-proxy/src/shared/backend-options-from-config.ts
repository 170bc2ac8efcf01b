import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import type { IptablesBackendOptions } from '../iptables/build-iptables-ruleset';
import { cidrContains } from '../model/cidr';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import { type NftablesBackendOptions, nftLocalDetector } from '../nftables/build-nftables-ruleset';
import {
  bridgeLocalDetector,
  cidrLocalDetector,
  interfacePrefixLocalDetector,
  type LocalDetector,
  NO_LOCAL_DETECTOR,
} from './local-detector';

export interface NodeFacts {
  /** The node's IPs (all families); the first of a family is its primary. */
  nodeIPs?: readonly string[];
  /** Every local address that NodePorts could be served on (for nodePortAddresses CIDR matching). */
  localAddresses?: readonly string[];
  /** Node.spec.podCIDRs, for detectLocalMode NodeCIDR. */
  podCIDRs?: readonly string[];
}

/** The local-traffic detector the configuration asks for, for one family. */
export function localDetectorFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  node: NodeFacts = {},
): LocalDetector {
  const ofFamily = (cidrs: readonly string[]) =>
    cidrs.map((s) => s.trim()).find((s) => s && ipFamilyOf(s) === family);
  switch (c.detectLocalMode) {
    case '':
    case 'ClusterCIDR': {
      const cidr = ofFamily(c.clusterCIDR.split(','));
      return cidr ? cidrLocalDetector(cidr) : NO_LOCAL_DETECTOR;
    }
    case 'NodeCIDR': {
      const cidr = ofFamily(node.podCIDRs ?? []);
      return cidr ? cidrLocalDetector(cidr) : NO_LOCAL_DETECTOR;
    }
    case 'BridgeInterface':
      return bridgeLocalDetector(c.detectLocal.bridgeInterface);
    case 'InterfaceNamePrefix':
      return interfacePrefixLocalDetector(c.detectLocal.interfaceNamePrefix);
    default:
      return NO_LOCAL_DETECTOR;
  }
}

/**
 * The addresses NodePorts are served on for one family: undefined (all local addresses) when
 * nodePortAddresses is empty, the primary node IP for "primary", else local addresses in the CIDRs.
 */
export function nodePortIPsFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  node: NodeFacts = {},
): string[] | undefined {
  const npa = c.nodePortAddresses ?? [];
  if (npa.length === 0) return undefined;
  if (npa.includes('primary')) {
    const primary = (node.nodeIPs ?? []).find((ip) => ipFamilyOf(ip) === family);
    return primary ? [primary] : [];
  }
  const cidrs = npa.filter((x) => ipFamilyOf(x) === family);
  const candidates = (node.localAddresses ?? node.nodeIPs ?? []).filter((ip) => ipFamilyOf(ip) === family);
  return candidates.filter((ip) => cidrs.some((cidr) => cidrContains(cidr, ip)));
}

/** Everything the iptables backend takes from the configuration, for one family. */
export function iptablesOptionsFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  node: NodeFacts = {},
): IptablesBackendOptions {
  return {
    masqueradeBit: c.iptables.masqueradeBit ?? 14,
    masqueradeAll: c.iptables.masqueradeAll,
    localDetector: localDetectorFromConfig(c, family, node),
    localhostNodePorts: c.iptables.localhostNodePorts ?? true,
    nodePortIPs: nodePortIPsFromConfig(c, family, node),
    nodeIP: (node.nodeIPs ?? []).find((ip) => ipFamilyOf(ip) === family),
    conntrackTCPLiberal: c.conntrack.tcpBeLiberal,
  };
}

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
