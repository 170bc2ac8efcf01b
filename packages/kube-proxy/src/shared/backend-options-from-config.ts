import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import { cidrContains } from '../model/cidr';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import {
  bridgeLocalDetector,
  cidrLocalDetector,
  interfacePrefixLocalDetector,
  type LocalDetector,
  NO_LOCAL_DETECTOR,
} from './local-detector';

/** What a backend learns about its node at start and cannot read from the configuration. */
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
