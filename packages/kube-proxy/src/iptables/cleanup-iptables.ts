import type { IptablesExecutor, IptablesTableName } from '../shared/iptables-executor';
import { IPTABLES_JUMP_RULES, LEGACY_JUMP_RULES } from './build-iptables-ruleset';
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

/** A restore payload that flushes every chain first, then deletes them (they jump to each other). */
export function flushAndDeleteChainsPayload(table: string, chains: readonly string[]): string {
  return [
    `*${table}`,
    ...chains.map((c) => `:${c} - [0:0]`),
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Removes `jumps` from the built-in chains, then flushes and deletes the chains `chainsOf`
 * picks among each table's existing ones, one restore per table. Other rules stay.
 */
export async function cleanupChains(
  exec: IptablesExecutor,
  jumps: readonly { table: IptablesTableName; chain: string; args: readonly string[] }[],
  chainsOf: (table: IptablesTableName, existing: Set<string>) => string[],
): Promise<{ deletedChains: number }> {
  for (const j of jumps) await exec.deleteRule(j.table, j.chain, j.args);
  let deleted = 0;
  for (const table of ['filter', 'nat', 'mangle'] as const) {
    const chains = chainsOf(table, await exec.listChains(table));
    if (chains.length === 0) continue;
    await exec.restore(flushAndDeleteChainsPayload(table, chains));
    deleted += chains.length;
  }
  return { deletedChains: deleted };
}

/**
 * `--cleanup` for iptables mode: removes our jump rules from built-in chains, then flushes
 * and deletes every chain we own, leaving everyone else's rules (and KUBE-FIREWALL) alone.
 */
export function cleanupIptables(exec: IptablesExecutor): Promise<{ deletedChains: number }> {
  return cleanupChains(exec, [...IPTABLES_JUMP_RULES, ...LEGACY_JUMP_RULES], ownedChains);
}
