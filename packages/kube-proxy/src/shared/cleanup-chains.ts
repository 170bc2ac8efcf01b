import type { IptablesExecutor, IptablesTableName } from './iptables-executor';

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
