import { IptablesClient } from '@nodeagent/netfilter';
import type { CommandRunner } from '@nodeagent/primitives';
import { type CleanupIpvsResult, cleanupIpvs } from '../ipvs/cleanup-ipvs';
import { execIpsetLayer } from '../ipvs/exec-ipset-layer';
import type { IpvsTable, LinkLayer } from '../ipvs/ipvs-kernel';
import { deleteNftablesTables } from '../nftables/exec-nftables';
import { iptablesExecutor } from '../shared/iptables-executor';
import { cleanupAllProxyChains } from './cleanup-all-chains';

/** What cleanupLeftovers works through. */
export interface CleanupLeftoversOptions {
  /** Starts every tool: iptables and ip6tables (their -save/-restore), ipset, nft. */
  runner: CommandRunner;
  /** The IPVS table over netlink; left out when the kernel has no IPVS. */
  ipvs?: IpvsTable;
  /** Deletes kube-ipvs0 (rtnetlink). */
  link: LinkLayer;
}

/** What cleanupLeftovers removed, and what failed on the way. */
export interface CleanupLeftoversResult {
  /** iptables chains deleted, both families, every mode. */
  deletedChains: number;
  /** Rules deleted from other chains (our jumps into the deleted ones). */
  deletedJumps: number;
  /** The ipvs mode's part, unless it failed. */
  ipvs?: CleanupIpvsResult;
  /** Families whose kube-proxy nftables table was deleted. */
  nftablesTables: ('ip' | 'ip6')[];
  /** Each step's failure; the other steps ran anyway, as upstream's CleanupLeftovers do. */
  errors: unknown[];
}

/**
 * `--cleanup`: removes what any proxy mode left behind (upstream's iptables, ipvs and nftables
 * CleanupLeftovers, plus the userspace mode's portals). Per family one `--version` (the back
 * end, asked once), one iptables-save and a restore per table that holds anything of ours;
 * then the IPVS services and kube-ipvs0 over netlink, `ipset save` and, if any of our sets
 * exist, one `ipset restore` destroying them; then `nft list tables` and, if a kube-proxy table
 * exists, one `nft -f`. An empty host costs six processes (upstream: over a hundred).
 */
export async function cleanupLeftovers(o: CleanupLeftoversOptions): Promise<CleanupLeftoversResult> {
  const errors: unknown[] = [];
  const attempt = async <T>(step: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await step();
    } catch (err) {
      errors.push(err);
      return undefined;
    }
  };
  let deletedChains = 0;
  let deletedJumps = 0;
  for (const family of ['ipv4', 'ipv6'] as const) {
    const exec = iptablesExecutor(new IptablesClient({ family, runner: o.runner }));
    const r = await attempt(() => cleanupAllProxyChains(exec));
    deletedChains += r?.deletedChains ?? 0;
    deletedJumps += r?.deletedJumps ?? 0;
  }
  // The chains are gone first: an ipset still referenced by a rule cannot be destroyed.
  const ipvs = await attempt(() =>
    cleanupIpvs({
      ipvs: o.ipvs,
      link: o.link,
      ipset: execIpsetLayer([], o.runner),
    }),
  );
  const nftablesTables = (await attempt(() => deleteNftablesTables(o.runner))) ?? [];
  return { deletedChains, deletedJumps, ipvs, nftablesTables, errors };
}
