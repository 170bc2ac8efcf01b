import { ownedChains } from '../iptables/cleanup-iptables';
import { IPTABLES_JUMP_RULES, LEGACY_JUMP_RULES } from '../iptables/jump-rules';
import { IPVS_JUMP_RULES } from '../ipvs/ipvs-iptables-rules';
import { IPVS_FILTER_CHAINS, IPVS_NAT_CHAINS } from '../ipvs/ipvs-names';
import { cleanupChains } from '../shared/cleanup-chains';
import type { IptablesExecutor, IptablesTableName } from '../shared/iptables-executor';
import { USERSPACE_CHAINS } from '../userspace/portal-chains';

const OTHER_MODES: Record<IptablesTableName, readonly string[]> = {
  filter: IPVS_FILTER_CHAINS,
  nat: [...IPVS_NAT_CHAINS, ...USERSPACE_CHAINS],
  mangle: [],
};

/**
 * The iptables part of `--cleanup` for whatever mode ran before, on one family: the iptables
 * and ipvs modes share chains (KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-PROXY-FIREWALL,
 * KUBE-FORWARD…) that each one's own chains and jumps reference, so no mode's cleanup can
 * delete them while the other's remain. This removes every jump of either mode from the
 * built-in chains (upstream's two DeleteRule lists) and every jump into a userspace portal
 * chain, then flushes and deletes all three modes' chains: one iptables-save, then one
 * restore per table that holds any of it (upstream: a `-C` per jump rule, and in ipvs mode a
 * `-F` and `-X` per chain). Other rules stay, and so do KUBE-FIREWALL and its jumps, as upstream.
 */
export function cleanupAllProxyChains(
  exec: Pick<IptablesExecutor, 'saveTable' | 'restore'>,
): Promise<{ deletedChains: number; deletedJumps: number }> {
  return cleanupChains(exec, {
    jumps: [...IPTABLES_JUMP_RULES, ...LEGACY_JUMP_RULES, ...IPVS_JUMP_RULES],
    chainsOf: (table, existing) => {
      const others = OTHER_MODES[table].filter((c) => existing.has(c));
      return [...new Set([...ownedChains(table, existing), ...others])].sort();
    },
    natJumpTargets: USERSPACE_CHAINS,
  });
}
