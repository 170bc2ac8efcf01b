import {
  type IncrementalNftTable,
  NftablesClient,
  type NftablesInterface,
  type NftBatchStats,
  type NftTransaction,
} from '@nodeagent/netfilter/nftables';
import { CommandFailedError, type CommandRunner, localRunner } from '@nodeagent/primitives';
import { prefixedRunner } from '../exec/prefixed-runner';
import { fitsOneLine, NftSession, type NftSessionOptions } from './nft-session';
import { NFTABLES_TABLE } from './nftables-names';

/**
 * What the nftables proxier applies through: @nodeagent/netfilter's NftablesInterface for
 * `family`'s kube-proxy table (NftablesClient, its FakeNftables, or any other implementation),
 * with optional extras it uses when present for full syncs, which otherwise run
 * `fullTransaction()`: `runTable` takes the table itself (NetlinkNftablesClient: elements
 * encoded from the table's text), `runScript` a full-table `nft -f` script rendered without
 * building an operation per element; and `close` ends a long-lived process.
 */
export type ProxierNftables = NftablesInterface & {
  /** Replaces the whole table with the contents of `table` (what `run(table.fullTransaction())` does). */
  runTable?(table: IncrementalNftTable): Promise<void>;
  /** Applies a whole `nft -f` script (a full-table replacement) in one go. */
  runScript?(script: string): Promise<void>;
  /** Ends any long-lived process the interface keeps; the proxier calls it on stop(). */
  close?(): Promise<void>;
  /**
   * Opens what the first sync will use (a socket, a native addon) ahead of it; the proxier calls
   * it on start(), while the informers list. Failures are left for the first sync to report.
   */
  prepare?(): Promise<void>;
  /**
   * What the last transaction's batch cost, when the interface measures it (netlink:
   * NetlinkNftablesClient.lastBatch): encoding vs. the kernel's send and commit. The proxier adds
   * it to its -v=4 sync line.
   */
  readonly lastBatch?: NftBatchStats;
};

/** Options of execNftables. */
export interface ExecNftablesOptions extends NftSessionOptions {
  /** The table's family: `ip` for the IPv4 proxier, `ip6` for the IPv6 one. */
  family: 'ip' | 'ip6';
  /** Prefix for every nft command, e.g. ['ip', 'netns', 'exec', 'ns1'] to act inside a namespace. */
  commandPrefix?: readonly string[];
  /**
   * Feed diff transactions to one long-lived `nft -i` (default true): a one-endpoint change
   * then costs well under a millisecond of nft instead of a process start (see NftSession).
   */
  session?: boolean;
  /** Diff scripts larger than this go through `nft -f -` (default 256 KiB). */
  sessionMaxScriptBytes?: number;
}

const DEFAULT_SESSION_MAX_SCRIPT_BYTES = 256 << 10;

/**
 * The kube-proxy table over the nft tool: an NftablesClient (`nft -f -` per transaction, failures
 * are its ApplyError) whose small transactions go to one long-lived `nft -i` instead, plus
 * `runScript` for full-table scripts and `close` for that process.
 */
export function execNftables(
  options: ExecNftablesOptions,
): NftablesInterface & Required<Pick<ProxierNftables, 'runScript' | 'close'>> {
  const prefix = options.commandPrefix ?? [];
  const client = new NftablesClient({
    family: options.family,
    table: NFTABLES_TABLE,
    runner: prefixedRunner(prefix),
    // Diffs as the proxier always wrote them: `destroy` only where the kernel has it.
    render: { emulateDestroy: false },
  });
  const session = options.session === false ? undefined : new NftSession(prefix, options);
  const maxBytes = options.sessionMaxScriptBytes ?? DEFAULT_SESSION_MAX_SCRIPT_BYTES;
  return {
    family: client.family,
    table: client.table,
    newTransaction: () => client.newTransaction(),
    check: (tx: NftTransaction) => client.check(tx),
    list: () => client.list(),
    async run(tx) {
      if (tx.size === 0) return;
      const script = client.render(tx);
      // Full-table scripts and unusual text take the plain path: nft -i reads one line per transaction.
      if (!session || script.length > maxBytes || !fitsOneLine(script)) return client.runScript(script);
      await session.apply(script);
    },
    async runScript(script) {
      await client.runScript(script);
    },
    async close() {
      await session?.close();
    },
  };
}

/**
 * `--cleanup`: deletes the kube-proxy table of each family that has one. One `nft list tables`
 * finds them and one `nft -f` deletes them together (upstream: `nft --version`, `nft --check`
 * and `nft -f` per family). Returns the families whose table was deleted.
 */
export async function deleteNftablesTables(
  runner: CommandRunner = localRunner,
  families: readonly ('ip' | 'ip6')[] = ['ip', 'ip6'],
): Promise<('ip' | 'ip6')[]> {
  const tables = new Set((await nft(runner, ['list', 'tables'])).split('\n').map((l) => l.trim()));
  const present = families.filter((f) => tables.has(`table ${f} ${NFTABLES_TABLE}`));
  if (present.length === 0) return [];
  await nft(runner, ['-f', '-'], present.map((f) => `delete table ${f} ${NFTABLES_TABLE}\n`).join(''));
  return present;
}

async function nft(runner: CommandRunner, args: readonly string[], input?: string): Promise<string> {
  const r = await runner.run('nft', args, input === undefined ? {} : { input });
  if (r.exitCode !== 0) throw new CommandFailedError(['nft', ...args], r.exitCode, r.stderr, r.stdout);
  return r.stdout;
}
