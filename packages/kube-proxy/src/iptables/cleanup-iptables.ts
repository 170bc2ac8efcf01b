import { IPTABLES_JUMP_RULES } from './build-iptables-ruleset';
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
import type { IptablesExecutor, IptablesTableName } from './iptables-executor';

const OWNED: Record<IptablesTableName, readonly string[]> = {
  filter: [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
    KUBE_PROXY_CANARY,
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
 * and deletes every chain we own, leaving everyone else's rules alone.
 */
export async function cleanupIptables(exec: IptablesExecutor): Promise<{ deletedChains: number }> {
  for (const j of IPTABLES_JUMP_RULES) await exec.deleteRule(j.table, j.chain, j.args);
  let deleted = 0;
  for (const table of ['filter', 'nat', 'mangle'] as const) {
    const chains = ownedChains(table, await exec.listChains(table));
    if (chains.length === 0) continue;
    // Flush all first, then delete: our chains jump to each other.
    const payload = [
      `*${table}`,
      ...chains.map((c) => `:${c} - [0:0]`),
      ...chains.map((c) => `-X ${c}`),
      'COMMIT',
      '',
    ];
    await exec.restore(payload.join('\n'));
    deleted += chains.length;
  }
  return { deletedChains: deleted };
}
