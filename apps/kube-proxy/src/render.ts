import {
  effectiveProxyMode,
  type IPFamily,
  type KubeProxyConfiguration,
  KubeProxyError,
  snapshotFromObjects,
} from '@nodeagent/kube-proxy';
import {
  iptablesOptionsFromConfig,
  renderIptablesRuleset,
  renderRestorePayload,
} from '@nodeagent/kube-proxy/iptables';
import { formatIpvsPlan, ipvsOptionsFromConfig, planIpvs } from '@nodeagent/kube-proxy/ipvs';
import { buildNftablesRuleset, nftablesOptionsFromConfig } from '@nodeagent/kube-proxy/nftables';
import { nodeHostIPs } from '@nodeagent/kube-proxy/runtime';
import type { ClusterObjects } from './read-objects';

export interface RenderOptions {
  config: KubeProxyConfiguration;
  nodeName: string;
  families: readonly IPFamily[];
  /** The node's IPs (for nodePortAddresses "primary" and LB source-range self access). */
  nodeIPs?: readonly string[];
}

/**
 * The ruleset kube-proxy would program for these objects, as text (iptables-restore input, or
 * an `nft -f` script in nftables mode, per family), computed without touching the kernel.
 */
export function renderRuleset(objects: ClusterObjects, o: RenderOptions): string {
  const mode = effectiveProxyMode(o.config);
  if (mode === 'userspace') {
    // Userspace mode's rules depend on the proxy ports it picks at run time (or, bind-only,
    // there are none), so there is nothing meaningful to print ahead of time.
    throw new KubeProxyError(
      'MODE_NOT_RENDERABLE',
      'render: proxy mode "userspace" has no static ruleset (its REDIRECT targets are ports chosen at run time); use iptables or nftables',
    );
  }
  if (mode !== 'iptables' && mode !== 'nftables' && mode !== 'ipvs') {
    throw new KubeProxyError(
      'MODE_NOT_IMPLEMENTED',
      `render: proxy mode ${JSON.stringify(mode)} is not implemented yet`,
    );
  }
  const node = objects.nodes.find((n) => n.metadata?.name === o.nodeName);
  const nodeIPs = o.nodeIPs?.length ? o.nodeIPs : node ? nodeHostIPs(node) : [];
  const out: string[] = [];
  for (const family of o.families) {
    const snapshot = snapshotFromObjects({
      family,
      nodeName: o.nodeName,
      nodeLabels: node?.metadata?.labels ?? {},
      services: objects.services,
      endpointSlices: objects.endpointSlices,
    });
    const facts = {
      nodeIPs,
      podCIDRs: node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : []),
    };
    if (mode === 'ipvs') {
      // NodePorts are planned on the node IPs given (the daemon uses every local address).
      const opts = ipvsOptionsFromConfig(o.config, family, facts);
      const plan = planIpvs(snapshot, { ...opts, nodePortIPs: opts.nodePortIPs ?? nodeIPs });
      out.push(formatIpvsPlan(plan));
      out.push(`# ${family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} --noflush input`);
      out.push(renderRestorePayload(plan.iptables));
      continue;
    }
    if (mode === 'nftables') {
      if (o.families.length > 1) out.push(`# nft -f input (${family === 'IPv4' ? 'ip' : 'ip6'} kube-proxy)`);
      out.push(buildNftablesRuleset(snapshot, nftablesOptionsFromConfig(o.config, family, facts)).script);
      continue;
    }
    const rendered = renderIptablesRuleset(snapshot, iptablesOptionsFromConfig(o.config, family, facts));
    if (o.families.length > 1)
      out.push(`# ${family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} input`);
    out.push(rendered.payload);
  }
  return out.join('\n');
}
