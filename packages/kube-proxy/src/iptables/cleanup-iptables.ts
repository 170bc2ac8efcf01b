import { cleanupChains } from '../shared/cleanup-chains';
import type { IptablesExecutor, IptablesTableName } from '../shared/iptables-executor';
import {
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names';
import { IPTABLES_JUMP_RULES, LEGACY_JUMP_RULES } from './jump-rules';

const OWNED: Record<IptablesTableName, readonly string[]> = {
  filter: [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
    KUBE_PROXY_CANARY,
    // Not KUBE-FIREWALL: as upstream, it and its jumps outlive a cleanup (see KUBELET_JUMP_RULES).
  ],
  nat: [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ, KUBE_PROXY_CANARY],
  mangle: [KUBE_PROXY_CANARY],
};

/** The chains of `table` that iptables mode owns, among those that exist. */
export function ownedChains(table: IptablesTableName, existing: Iterable<string>): string[] {
  return [...existing]
    .filter((c) => OWNED[table].includes(c) || (table === 'nat' && isServiceChainName(c)))
    .sort();
}

/**
 * `--cleanup` for iptables mode: removes our jump rules from built-in chains, then flushes
 * and deletes every chain we own, leaving everyone else's rules (and KUBE-FIREWALL) alone; one
 * iptables-save, then one restore per table that holds any of it.
 */
export function cleanupIptables(
  exec: IptablesExecutor,
): Promise<{ deletedChains: number; deletedJumps: number }> {
  return cleanupChains(exec, {
    jumps: [...IPTABLES_JUMP_RULES, ...LEGACY_JUMP_RULES],
    chainsOf: ownedChains,
  });
}
