import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import {
  localDetectorFromConfig,
  type NodeFacts,
  nodePortIPsFromConfig,
} from '../shared/backend-options-from-config';
import type { IptablesBackendOptions } from './iptables-backend-options';

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
