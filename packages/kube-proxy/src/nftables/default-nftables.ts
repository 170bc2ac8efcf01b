import { NetlinkNftablesClient, type NftablesInterface, NftTransaction } from '@nodeagent/netfilter/nftables';
import { type ExecNftablesOptions, execNftables, type ProxierNftables } from './exec-nftables';
import { NFTABLES_TABLE } from './nftables-names';

export interface DefaultNftablesOptions extends ExecNftablesOptions {
  /** `netlink` (default): nf_tables over netlink, no nft process; `nft`: the nft binary. */
  prefer?: 'netlink' | 'nft';
  /** The netlink socket's network namespace file (default: this process's namespace). */
  netnsPath?: string;
  /** Told once when netlink cannot be used and the nft binary takes over. */
  onFallback?: (error: unknown) => void;
}

/**
 * kube-proxy's table over netlink (NetlinkNftablesClient: every sync one nf_tables batch, no
 * `nft` process), or over the `nft` binary (execNftables) when the netlink socket cannot be
 * opened (the native addon is missing for this platform, or the socket is refused). The choice
 * is made on first use and kept. Full syncs go through run(fullTransaction()) either way.
 */
export function defaultNftables(options: DefaultNftablesOptions): ProxierNftables {
  let chosen: Promise<ProxierNftables> | undefined;
  /** The chosen interface once known (for lastBatch, read synchronously). */
  let resolved: ProxierNftables | undefined;
  const viaNft = () => execNftables(options);
  const choose = (): Promise<ProxierNftables> => {
    chosen ??= (async () => {
      if (options.prefer === 'nft') return viaNft();
      const client = new NetlinkNftablesClient({
        family: options.family,
        table: NFTABLES_TABLE,
        ...(options.netnsPath !== undefined ? { netns: { path: options.netnsPath } } : {}),
      });
      try {
        await client.exists(); // opens the socket: the addon loads and the kernel answers
        resolved = client;
        return client;
      } catch (err) {
        await client.close();
        options.onFallback?.(err);
        return viaNft();
      }
    })();
    return chosen;
  };
  const use = async <T>(work: (nft: NftablesInterface) => Promise<T>): Promise<T> => work(await choose());
  return {
    family: options.family,
    table: NFTABLES_TABLE,
    newTransaction: () => new NftTransaction(),
    check: (tx) => use((nft) => nft.check(tx)),
    run: (tx) => use((nft) => nft.run(tx)),
    // Full syncs: netlink encodes the table's elements from their text; nft takes a script.
    runTable: (table) =>
      use((nft: ProxierNftables) =>
        nft.runTable
          ? nft.runTable(table)
          : nft.runScript
            ? nft.runScript(table.fullScript(options.family, NFTABLES_TABLE))
            : nft.run(table.fullTransaction()),
      ),
    list: () => use((nft) => nft.list()),
    get lastBatch() {
      return resolved?.lastBatch;
    },
    // The choice made and the socket opened before the first sync, with its send's FFI loaded:
    // both were ~160 ms inside the first full sync (issue #54).
    prepare: () =>
      use(async (nft) => {
        if (nft instanceof NetlinkNftablesClient) await nft.prepare();
      }),
    async close() {
      const nft = await chosen?.catch(() => undefined);
      await (nft as ProxierNftables | undefined)?.close?.();
    },
  };
}
