import { runChecked, runCommand } from '@nodeagent/primitives';
import { fitsOneLine, NftSession, type NftSessionOptions } from './nft-session';

/** What the nftables proxier needs from `nft`; injected so tests can fake or fail it. */
export interface NftablesExecutor {
  /** `nft -f -`: applies the script as one atomic transaction. */
  apply(script: string): Promise<void>;
  /**
   * Applies a small diff transaction, atomically like `apply`, possibly through a long-lived
   * nft process; absent means `apply`.
   */
  applyDiff?(script: string): Promise<void>;
  /** Deletes `family table` if it exists (for --cleanup). */
  deleteTable(family: 'ip' | 'ip6', table: string): Promise<void>;
  /** Ends any long-lived nft process. */
  close?(): Promise<void>;
}

export interface ExecNftablesOptions extends NftSessionOptions {
  /**
   * Feed diff transactions to one long-lived `nft -i` (default true): a one-endpoint change
   * then costs well under a millisecond of nft instead of a process start (see NftSession).
   */
  session?: boolean;
  /** Diff scripts larger than this go through `nft -f -` (default 256 KiB). */
  sessionMaxScriptBytes?: number;
}

const DEFAULT_SESSION_MAX_SCRIPT_BYTES = 256 << 10;

/** NftablesExecutor over the nft tool; `commandPrefix` runs it elsewhere (e.g. `ip netns exec ns`). */
export function execNftables(
  commandPrefix: readonly string[] = [],
  options: ExecNftablesOptions = {},
): NftablesExecutor {
  const apply = async (script: string) => {
    await runChecked([...commandPrefix, 'nft', '-f', '-'], { input: script });
  };
  const session = options.session === false ? undefined : new NftSession(commandPrefix, options);
  const maxBytes = options.sessionMaxScriptBytes ?? DEFAULT_SESSION_MAX_SCRIPT_BYTES;
  return {
    apply,
    async applyDiff(script) {
      // Full-table scripts and unusual text take the plain path: nft -i reads one line per transaction.
      if (!session || script.length > maxBytes || !fitsOneLine(script)) return apply(script);
      await session.apply(script);
    },
    async deleteTable(family, table) {
      const r = await runCommand([...commandPrefix, 'nft', 'list', 'table', family, table]);
      if (r.exitCode === 0) await runChecked([...commandPrefix, 'nft', 'delete', 'table', family, table]);
    },
    async close() {
      await session?.close();
    },
  };
}
