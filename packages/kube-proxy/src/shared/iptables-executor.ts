import { type IptablesBackend, IptablesClient, type IptablesInterface } from '@nodeagent/netfilter';
import type { NftNetlinkRestoreOptions } from '@nodeagent/netfilter/iptables';
import { NetlinkChannel, NetnsChannel } from '@nodeagent/netfilter/nftables';
import { prefixedRunner } from '../exec/prefixed-runner';
import type { IPFamily } from '../model/ip-family';
import type { ProxyLogger } from '../runtime/proxy-logger';

/** The iptables tables kube-proxy writes to. */
export type IptablesTableName = 'filter' | 'nat' | 'mangle';

/** A payload's size as its producer estimates it before producing it. */
export interface IptablesPayloadEstimate {
  chains: number;
  rules: number;
  builtinRules: number;
}

/**
 * What the proxiers need from iptables, in their terms (restores with kube-proxy's options,
 * chain names, the jump rules as argument vectors). `iptablesExecutor` implements it over
 * @nodeagent/netfilter's IptablesInterface: IptablesClient on a node, its FakeIptables in tests.
 */
export interface IptablesExecutor {
  /**
   * `iptables-restore --noflush --counters`: atomically applies the payload. The real one
   * fails with @nodeagent/netfilter's ApplyError (naming the payload line); any rejection
   * makes the proxier fall back to a full sync.
   */
  restore(payload: string): Promise<void>;
  /**
   * The same restore, with the payload written to iptables-restore's stdin while `chunks`
   * produces it (full syncs: rendering overlaps parsing). If `chunks` throws, the tool is
   * killed before the rest of the payload reaches it and this rejects (the real one with
   * @nodeagent/netfilter's InputAbortedError). `expected` sizes the payload in advance for
   * the restore strategy; `tail()`, called once the chunks are done, gives sections to send
   * after them in the same run that must not be cache-widened (jumps from built-in chains).
   * On the iptables-nft back end execIptables writes it over netlink instead (see
   * fullSyncOverNetlink): one transaction, a kernel refusal @nodeagent/netfilter's NftKernelError.
   * Optional: without it the proxier renders first, then `restore`s.
   */
  restoreStream?(
    chunks: AsyncIterable<string>,
    expected: IptablesPayloadEstimate,
    tail?: () => string,
  ): Promise<void>;
  /** Names of the chains that exist in `table` now. */
  listChains(table: IptablesTableName): Promise<Set<string>>;
  /**
   * `iptables-save [-t table]`: the table's chains and rules as text ('' if it does not
   * exist); every table when `table` is omitted.
   */
  saveTable(table?: IptablesTableName): Promise<string>;
  /** Creates the chain unless it exists. */
  ensureChain(table: IptablesTableName, chain: string): Promise<void>;
  /** Inserts the rule at the top of `chain` unless an identical rule is there. */
  ensureRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void>;
  /** Deletes the rule if present (used by --cleanup). */
  deleteRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void>;
  /** Flushes and deletes the chain if present (used by --cleanup). */
  deleteChain(table: IptablesTableName, chain: string): Promise<void>;
  /** True when the chain exists. */
  chainExists(table: IptablesTableName, chain: string): Promise<boolean>;
}

/** Options of execIptables. */
export interface ExecIptablesOptions {
  /** Which tool runs: `iptables` for IPv4, `ip6tables` for IPv6 (and their -save / -restore). */
  family: IPFamily;
  /** Prefix for every command, e.g. ['ip', 'netns', 'exec', 'ns1'] to act inside a namespace. */
  commandPrefix?: readonly string[];
  /**
   * Every iptables operation goes through it; by default an IptablesClient for `family` running
   * its tools behind `commandPrefix`. Its `auto` strategy makes big payloads fast on the
   * iptables-nft back end (docs/reference/netfilter.md, "Apply strategy").
   */
  client?: IptablesInterface;
  /**
   * Which iptables back end to drive. Default: whichever the system's `iptables` command is
   * (Debian's alternatives pick iptables-nft; `iptables --version` says "nf_tables" or
   * "legacy"), because rules of the two back ends do not see each other and kube-proxy must
   * share the node's. Set it only when the node itself uses the other one: on this kernel
   * iptables-legacy-restore was 3× faster for a first 1k-Service load but rewrites whole
   * tables, so every partial sync costs O(all rules) (0.2 s at 1k, 2 s at 10k) where
   * iptables-nft costs O(changed chains) (docs/reference/kube-proxy.md, "iptables mode").
   */
  backend?: IptablesBackend;
  /**
   * Full syncs on the iptables-nft back end go over netlink (default true; see
   * fullSyncOverNetlink). False: every restore runs iptables-restore, as upstream.
   */
  fullSyncOverNetlink?: boolean;
  /**
   * The network namespace file the netlink socket of full syncs opens in. Default: the
   * namespace of `commandPrefix` when it is `ip netns exec NAME` (/run/netns/NAME), else this
   * process's.
   */
  netnsPath?: string;
  /** Hears (at info, -v=2) once per reason why a full sync went to iptables-restore instead. */
  logger?: ProxyLogger;
}

/** IptablesExecutor over the iptables / ip6tables command-line tools (IptablesClient, which waits for the xtables lock). */
export function execIptables(opts: ExecIptablesOptions): IptablesExecutor {
  const client =
    opts.client ??
    new IptablesClient({
      family: opts.family === 'IPv6' ? 'ipv6' : 'ipv4',
      runner: prefixedRunner(opts.commandPrefix ?? []),
      backend: opts.backend,
      ...(opts.fullSyncOverNetlink === false ? {} : { nftNetlink: fullSyncOverNetlink(opts) }),
    });
  return iptablesExecutor(client);
}

/**
 * The chain count from which a full sync goes over netlink. packages/kube-proxy's
 * bench/iptables-nft-wire.bench.ts: at 51,010 chains (1k Services x 50)
 * iptables-nft-restore took 4.84 s and 228 MB, the writer 4.9 s and ~350 MB in its process; at
 * 255,010 chains 64.7 s against 26.3 s, both ~1.1 GB. A fit of the two (quadratic, linear)
 * crosses near 58k chains.
 */
export const FULL_SYNC_OVER_NETLINK_MIN_CHAINS = 60_000;

/**
 * Upstream kube-proxy writes every sync with iptables-restore. On the iptables-nft back end a
 * full sync's payload goes over netlink instead: iptables-nft-restore spends a big full sync
 * comparing chain names in its own cache, quadratic in the chain count (4 minutes and 65 CPU-s
 * for 255k chains at 250k endpoints), while the netlink writer creates the very objects the
 * tool creates, so the kernel and `iptables-save` are identical (netfilter's
 * test/real/iptables-nft-wire.test.ts). A payload the writer cannot take (session affinity's
 * `-m recent`, …) goes to iptables-restore whole; partial syncs always do. Below
 * {@link FULL_SYNC_OVER_NETLINK_MIN_CHAINS} declared chains the tool is as fast and the daemon
 * stays smaller, so such payloads go to it as upstream's do.
 */
export function fullSyncOverNetlink(
  opts: Pick<ExecIptablesOptions, 'commandPrefix' | 'netnsPath' | 'logger'> & { minChains?: number },
): NftNetlinkRestoreOptions {
  const netnsPath = opts.netnsPath ?? netnsOfPrefix(opts.commandPrefix ?? []);
  const told = new Set<string>();
  return {
    minChains: opts.minChains ?? FULL_SYNC_OVER_NETLINK_MIN_CHAINS,
    openChannel: () => (netnsPath === undefined ? NetlinkChannel.open() : NetnsChannel.open(netnsPath)),
    onFallback(reason, err) {
      if (told.has(reason)) return;
      told.add(reason);
      opts.logger?.info(
        { reason, err },
        'Writing the full sync with iptables-restore: the netlink writer cannot take it',
      );
    },
  };
}

/** `ip netns exec NAME …`'s namespace file, where the prefixed tools act. */
function netnsOfPrefix(prefix: readonly string[]): string | undefined {
  const [ip, netns, exec, name] = prefix;
  if (ip === 'ip' && netns === 'netns' && exec === 'exec' && name !== undefined) return `/run/netns/${name}`;
  return undefined;
}

/** IptablesExecutor over any @nodeagent/netfilter IptablesInterface (IptablesClient, FakeIptables). */
export function iptablesExecutor(ipt: IptablesInterface): IptablesExecutor {
  return {
    async restore(payload) {
      // validate: false — a partial sync's payload jumps to service chains it leaves
      // untouched (they exist in the kernel, not in the payload), and the builder already
      // produced it from a consistent model; iptables-restore itself rejects anything wrong.
      await ipt.restore(payload, { strategy: 'auto', counters: true, validate: false });
    },
    async restoreStream(chunks, expected, tail) {
      await ipt.restoreStream(chunks, { strategy: 'auto', counters: true, expected, unwidenedTail: tail });
    },
    async listChains(table) {
      return chainsInSave(await ipt.saveText(table));
    },
    saveTable: (table) => ipt.saveText(table),
    ensureChain: (table, chain) => ipt.ensureChain(table, chain),
    async ensureRule(table, chain, args) {
      await ipt.ensureRule('prepend', table, chain, args);
    },
    async deleteRule(table, chain, args) {
      await ipt.deleteRule(table, chain, args);
    },
    async deleteChain(table, chain) {
      await ipt.deleteChain(table, chain);
    },
    chainExists: (table, chain) => ipt.chainExists(table, chain),
  };
}

/** The chain names an iptables-save text declares (":NAME POLICY [p:b]" lines). */
export function chainsInSave(save: string): Set<string> {
  const chains = new Set<string>();
  for (const line of save.split('\n')) if (line.startsWith(':')) chains.add(line.slice(1).split(' ')[0]!);
  return chains;
}
