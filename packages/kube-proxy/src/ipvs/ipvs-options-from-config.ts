import { parseDuration } from '@nodeagent/primitives';
import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import {
  localDetectorFromConfig,
  type NodeFacts,
  nodePortIPsFromConfig,
} from '../shared/backend-options-from-config';
import type { IpvsBackendOptions } from './ipvs-proxier';

/** Everything the ipvs backend takes from the configuration, for one family. */
export function ipvsOptionsFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  node: NodeFacts = {},
): IpvsBackendOptions {
  const seconds = (field: string, v: string) => Math.floor(parseDuration(v, field) / 1000);
  return {
    scheduler: c.ipvs.scheduler,
    // ipvs mode uses the iptables masquerade settings, as upstream.
    masqueradeBit: c.iptables.masqueradeBit ?? 14,
    masqueradeAll: c.iptables.masqueradeAll,
    localDetector: localDetectorFromConfig(c, family, node),
    nodeIPs: (node.nodeIPs ?? []).filter((ip) => ipFamilyOf(ip) === family),
    nodePortIPs: nodePortIPsFromConfig(c, family, node),
    excludeCIDRs: (c.ipvs.excludeCIDRs ?? []).filter((cidr) => ipFamilyOf(cidr) === family),
    strictARP: c.ipvs.strictARP,
    timeouts: {
      tcp: seconds('ipvs.tcpTimeout', c.ipvs.tcpTimeout),
      tcpFin: seconds('ipvs.tcpFinTimeout', c.ipvs.tcpFinTimeout),
      udp: seconds('ipvs.udpTimeout', c.ipvs.udpTimeout),
    },
  };
}
