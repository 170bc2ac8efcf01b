// Shared by the netlink oracle tests: a pair of throwaway namespaces, one written over netlink
// and one with `nft -f`, and the listings to compare.

import { type Netns, NetnsScope } from '@nodeagent/testing';
import { netnsRunner } from '../../src/index';
import type { NftFamily } from '../../src/nftables/model';
import { NetlinkNftablesClient } from '../../src/nftables/netlink/client';
import { NftablesClient } from '../../src/nftables/nftables-client';
import type { NftTransaction } from '../../src/nftables/transaction';

/** `nft list ruleset` with the only time-dependent part (an element's remaining time) removed. */
export async function listRuleset(ns: Netns): Promise<string> {
  const result = await ns.exec('nft', ['list', 'ruleset']);
  return result.stdout.replace(/ expires \S+/g, '');
}

export interface OraclePair {
  netlinkNs: Netns;
  nftNs: Netns;
  netlink: NetlinkNftablesClient;
  nft: NftablesClient;
  /** Apply to both; returns each side's error (undefined: applied). */
  apply(tx: NftTransaction): Promise<{ netlink: unknown; nft: unknown }>;
  listings(): Promise<{ netlink: string; nft: string }>;
  close(): Promise<void>;
}

export async function oraclePair(
  scope: NetnsScope,
  family: NftFamily,
  table: string,
  clientOptions: Partial<ConstructorParameters<typeof NetlinkNftablesClient>[0]> = {},
): Promise<OraclePair> {
  const [netlinkNs, nftNs] = await Promise.all([scope.create(), scope.create()]);
  const netlink = new NetlinkNftablesClient({
    family,
    table,
    netns: { path: netlinkNs.path },
    ...clientOptions,
  });
  const nft = new NftablesClient({ family, table, runner: netnsRunner(nftNs.path) });
  return {
    netlinkNs,
    nftNs,
    netlink,
    nft,
    async apply(tx) {
      const [a, b] = await Promise.allSettled([netlink.run(tx), nft.run(tx)]);
      return {
        netlink: a.status === 'rejected' ? a.reason : undefined,
        nft: b.status === 'rejected' ? b.reason : undefined,
      };
    },
    async listings() {
      const [a, b] = await Promise.all([listRuleset(netlinkNs), listRuleset(nftNs)]);
      return { netlink: a, nft: b };
    },
    close: () => netlink.close(),
  };
}

export { type Netns, NetnsScope };
