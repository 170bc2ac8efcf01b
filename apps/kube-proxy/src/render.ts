import {
  buildIptablesRuleset,
  type IPFamily,
  iptablesOptionsFromConfig,
  type KubeProxyConfiguration,
  KubeProxyError,
  renderRestorePayload,
  snapshotFromObjects,
} from '@nodeagent/kube-proxy';
import type { ClusterObjects } from './read-objects';

export interface RenderOptions {
  config: KubeProxyConfiguration;
  nodeName: string;
  families: readonly IPFamily[];
  /** The node's IPs (for nodePortAddresses "primary" and LB source-range self access). */
  nodeIPs?: readonly string[];
}

/**
 * The ruleset kube-proxy would program for these objects, as text (iptables-restore input per
 * family), computed without touching the kernel.
 */
export function renderRuleset(objects: ClusterObjects, o: RenderOptions): string {
  const mode = o.config.mode === '' ? 'iptables' : o.config.mode;
  if (mode !== 'iptables') {
    throw new KubeProxyError(
      'MODE_NOT_IMPLEMENTED',
      `render: proxy mode ${JSON.stringify(mode)} is not implemented yet`,
    );
  }
  const node = objects.nodes.find((n) => n.metadata?.name === o.nodeName);
  const nodeIPs = o.nodeIPs?.length
    ? o.nodeIPs
    : (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  const out: string[] = [];
  for (const family of o.families) {
    const snapshot = snapshotFromObjects({
      family,
      nodeName: o.nodeName,
      nodeLabels: node?.metadata?.labels ?? {},
      services: objects.services,
      endpointSlices: objects.endpointSlices,
    });
    const options = iptablesOptionsFromConfig(o.config, family, {
      nodeIPs,
      podCIDRs: node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : []),
    });
    const built = buildIptablesRuleset({ snapshot }, options);
    if (o.families.length > 1)
      out.push(`# ${family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} input`);
    out.push(renderRestorePayload(built.ruleset));
  }
  return out.join('\n');
}
