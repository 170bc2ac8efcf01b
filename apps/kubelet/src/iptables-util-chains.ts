import type { KubeletLogger } from '@nodeagent/kubelet';
import { initNetworkUtil } from '@nodeagent/kubelet/runtime';
import { systemClock } from '@nodeagent/primitives';

/**
 * makeIPTablesUtilChains (--make-iptables-util-chains, default true): upstream's Run calls
 * initNetworkUtil before its sync loop, so the host's iptables get KUBE-IPTABLES-HINT (what
 * kube-proxy images' iptables-wrapper reads the back end from), the IPv4 KUBE-FIREWALL rules and
 * the canary monitors. Failures are only logged. Returns the stop of the monitors.
 */
export async function startIptablesUtilChains(enabled: boolean, logger: KubeletLogger): Promise<() => void> {
  if (!enabled) return () => {};
  const util = await initNetworkUtil({ clock: systemClock, logger });
  return () => util.stop();
}
