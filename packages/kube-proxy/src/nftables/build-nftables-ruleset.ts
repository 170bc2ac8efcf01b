import type { NftTransaction } from '@nodeagent/netfilter';
import { renderScript } from '@nodeagent/netfilter/nftables';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import { NFTABLES_TABLE } from './nftables-names';
import type { NftablesBackendOptions } from './nftables-options';
import { NftablesRuleset } from './nftables-ruleset';

export { NFTABLES_TABLE } from './nftables-names';
export {
  type NftablesBackendOptions,
  type NftLocalDetector,
  nftLocalDetector,
} from './nftables-options';

/** What buildNftablesRuleset returns: the table for one snapshot, as a transaction and as `nft -f` text. */
export interface NftablesBuildResult {
  /** A full-replacement transaction: the table is deleted and rebuilt atomically. */
  readonly transaction: NftTransaction;
  /** `nft -f -` input for the transaction. */
  readonly script: string;
  /**
   * Service ports with a Local traffic policy but no local endpoints, per policy (what the
   * kubeproxy_sync_proxy_rules_no_local_endpoints_total gauge reports).
   */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/**
 * The nftables ruleset for a snapshot, as one atomic transaction that replaces the `kube-proxy`
 * table of the snapshot's family (see NftablesRuleset for the shape and for incremental syncs).
 */
export function buildNftablesRuleset(
  snapshot: ProxySnapshot,
  options: NftablesBackendOptions = {},
): NftablesBuildResult {
  const ruleset = new NftablesRuleset(snapshot.family, options);
  ruleset.update(snapshot);
  const transaction = ruleset.fullTransaction();
  return {
    transaction,
    script: renderScript(snapshot.family === 'IPv6' ? 'ip6' : 'ip', NFTABLES_TABLE, transaction, {
      emulateDestroy: false,
    }),
    noLocalEndpoints: ruleset.noLocalEndpoints,
  };
}
