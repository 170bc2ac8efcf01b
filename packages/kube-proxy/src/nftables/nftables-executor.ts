import { runChecked, runCommand } from '../exec/run-command';

/** What the nftables proxier needs from `nft`; injected so tests can fake or fail it. */
export interface NftablesExecutor {
  /** `nft -f -`: applies the script as one atomic transaction. */
  apply(script: string): Promise<void>;
  /** Deletes `family table` if it exists (for --cleanup). */
  deleteTable(family: 'ip' | 'ip6', table: string): Promise<void>;
}

/** NftablesExecutor over the nft tool; `commandPrefix` runs it elsewhere (e.g. `ip netns exec ns`). */
export function execNftables(commandPrefix: readonly string[] = []): NftablesExecutor {
  return {
    async apply(script) {
      await runChecked([...commandPrefix, 'nft', '-f', '-'], script);
    },
    async deleteTable(family, table) {
      const r = await runCommand([...commandPrefix, 'nft', 'list', 'table', family, table]);
      if (r.exitCode === 0) await runChecked([...commandPrefix, 'nft', 'delete', 'table', family, table]);
    },
  };
}
