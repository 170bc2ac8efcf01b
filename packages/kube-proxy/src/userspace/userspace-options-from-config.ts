import { parseDuration } from '@nodeagent/primitives';
import type { KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import type { IPFamily } from '../model/ip-family';
import { type NodeFacts, nodePortIPsFromConfig } from '../shared/backend-options-from-config';
import { parseProxyPortRange } from './proxy-port-range';
import type { UserspaceProxierOptions } from './userspace-proxier';

/** What the configuration decides for a UserspaceProxier of one family (no kernel handles). */
export type UserspaceConfigOptions = Pick<
  UserspaceProxierOptions,
  'bindOnly' | 'bindAddress' | 'nodePortAddresses' | 'proxyPortRange' | 'minSyncPeriodMs' | 'syncPeriodMs'
>;

/**
 * Userspace-mode options from a KubeProxyConfiguration, as upstream's userspace proxier read
 * them: the iptables sync periods, `bindAddress` for the REDIRECT targets (a wildcard of the
 * other family becomes this family's), `portRange` for their ports, and node ports on
 * `nodePortAddresses` (bind-only mode; REDIRECT mode catches them with rules instead).
 */
export function userspaceOptionsFromConfig(
  c: KubeProxyConfiguration,
  family: IPFamily,
  bindOnly: boolean,
  node: NodeFacts = {},
): UserspaceConfigOptions {
  const wildcard = family === 'IPv6' ? '::' : '0.0.0.0';
  const isWildcard = c.bindAddress === '0.0.0.0' || c.bindAddress === '::' || c.bindAddress === '';
  const bindFamilyMatches = family === 'IPv6' ? c.bindAddress.includes(':') : !c.bindAddress.includes(':');
  return {
    bindOnly,
    bindAddress: isWildcard || !bindFamilyMatches ? wildcard : c.bindAddress,
    nodePortAddresses: bindOnly ? (nodePortIPsFromConfig(c, family, node) ?? []) : [],
    proxyPortRange: parseProxyPortRange('portRange', c.portRange),
    minSyncPeriodMs: parseDuration(c.iptables.minSyncPeriod, 'iptables.minSyncPeriod'),
    syncPeriodMs: parseDuration(c.iptables.syncPeriod, 'iptables.syncPeriod'),
  };
}
