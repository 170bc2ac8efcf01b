import { ownedChains } from '../iptables/cleanup-iptables';
import { IPTABLES_JUMP_RULES, LEGACY_JUMP_RULES } from '../iptables/jump-rules';
import { IPVS_JUMP_RULES } from '../ipvs/ipvs-iptables-rules';
import { IPVS_FILTER_CHAINS, IPVS_NAT_CHAINS } from '../ipvs/ipvs-names';
import { cleanupChains } from '../shared/cleanup-chains';
import type { IptablesExecutor } from '../shared/iptables-executor';

const IPVS_OWNED = { filter: IPVS_FILTER_CHAINS, nat: IPVS_NAT_CHAINS, mangle: [] } as const;

/**
 * The iptables part of `--cleanup` for whatever mode ran before: the iptables and ipvs modes
 * share chains (KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-PROXY-FIREWALL, KUBE-FORWARD…) that
 * each one's own chains and jumps reference, so no mode's cleanup can delete them while the
 * other's remain. This removes every jump of either mode from the built-in chains, then
 * flushes and deletes both modes' chains of a table in one restore. Other rules stay, and so
 * do KUBE-FIREWALL and its jumps, as upstream.
 */
export function cleanupAllProxyChains(exec: IptablesExecutor): Promise<{ deletedChains: number }> {
  return cleanupChains(
    exec,
    [...IPTABLES_JUMP_RULES, ...LEGACY_JUMP_RULES, ...IPVS_JUMP_RULES],
    (table, existing) => {
      const ipvsChains = IPVS_OWNED[table].filter((c) => existing.has(c));
      return [...new Set([...ownedChains(table, existing), ...ipvsChains])].sort();
    },
  );
}
