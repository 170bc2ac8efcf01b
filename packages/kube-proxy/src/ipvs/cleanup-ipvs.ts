import { isCommandNotFoundError } from '@nodeagent/primitives';
import { cleanupChains } from '../shared/cleanup-chains';
import type { IptablesExecutor } from '../shared/iptables-executor';
import { ownedIpsetNames } from './ipset-definitions';
import { IPVS_JUMP_RULES } from './ipvs-iptables-rules';
import type { IpsetLayer, IpvsTable, LinkLayer } from './ipvs-kernel';
import { IPVS_FILTER_CHAINS, IPVS_NAT_CHAINS, KUBE_IPVS_INTERFACE } from './ipvs-names';

const IPVS_OWNED = { filter: IPVS_FILTER_CHAINS, nat: IPVS_NAT_CHAINS, mangle: [] } as const;

/** The kernel interfaces cleanupIpvs works through. */
export interface CleanupIpvsOptions {
  /** Left out when the kernel has no IPVS (nothing to delete there then). */
  ipvs?: IpvsTable;
  /** Deletes kube-ipvs0. */
  link: LinkLayer;
  /** Destroys the KUBE-* ipsets. */
  ipset: IpsetLayer;
  /**
   * One executor per family whose chains to remove (iptables and ip6tables); none when the
   * caller removed them already (`--cleanup` does every mode's chains in one pass).
   */
  iptables?: readonly Pick<IptablesExecutor, 'saveTable' | 'restore'>[];
}

/** What cleanupIpvs removed. */
export interface CleanupIpvsResult {
  /** IPVS virtual servers deleted. */
  deletedServices: number;
  /** iptables chains deleted, over all families. */
  deletedChains: number;
  /** ipsets destroyed. */
  destroyedIpsets: number;
  /** Whether kube-ipvs0 existed and was deleted. */
  deletedInterface: boolean;
}

/**
 * `--cleanup` for ipvs mode: our jump rules and chains, every IPVS virtual server (upstream's
 * CleanupLeftovers flushes the whole table: it assumes only kube-proxy uses IPVS on a node, and
 * ipvs.excludeCIDRs, a sync-time setting, does not reach it), kube-ipvs0 and our ipsets, in
 * that order (an ipset cannot be destroyed while a rule references it). No other chain, set or
 * link is touched.
 */
export async function cleanupIpvs(o: CleanupIpvsOptions): Promise<CleanupIpvsResult> {
  let deletedChains = 0;
  for (const exec of o.iptables ?? []) {
    deletedChains += (
      await cleanupChains(exec, {
        jumps: IPVS_JUMP_RULES,
        chainsOf: (table, existing) => IPVS_OWNED[table].filter((c) => existing.has(c)),
      })
    ).deletedChains;
  }

  let deletedServices = 0;
  if (o.ipvs) {
    // Counted for the summary line; one flush removes them all, as upstream's ipvs.Flush().
    deletedServices = (await o.ipvs.listServices()).length;
    if (deletedServices > 0) await o.ipvs.flush();
  }

  const deletedInterface = await o.link.linkExists(KUBE_IPVS_INTERFACE);
  if (deletedInterface) await o.link.deleteLink(KUBE_IPVS_INTERFACE);

  const destroyedIpsets = await destroyOurIpsets(o.ipset);
  return { deletedServices, deletedChains, destroyedIpsets, deletedInterface };
}

/** Our ipsets that exist, destroyed; none when ipset is not installed (upstream skips them then). */
async function destroyOurIpsets(ipset: IpsetLayer): Promise<number> {
  let present: Set<string>;
  try {
    present = new Set((await ipset.save()).keys());
  } catch (err) {
    if (isCommandNotFoundError(err)) return 0;
    throw err;
  }
  const ours = [...ownedIpsetNames('IPv4'), ...ownedIpsetNames('IPv6')].filter((n) => present.has(n));
  if (ours.length > 0) await ipset.destroy(ours);
  return ours.length;
}
