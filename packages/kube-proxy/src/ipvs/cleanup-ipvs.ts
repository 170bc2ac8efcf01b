import { isCommandNotFoundError } from '@nodeagent/primitives';
import { cidrContains } from '../model/cidr';
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
  /** ipvs.excludeCIDRs: virtual servers on these addresses are left alone. */
  excludeCIDRs?: readonly string[];
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
 * `--cleanup` for ipvs mode: our jump rules and chains, the IPVS virtual servers (not
 * firewall-mark ones, nor those in excludeCIDRs), kube-ipvs0 and our ipsets, in that order
 * (an ipset cannot be destroyed while a rule references it). Nothing else is touched.
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
  for (const s of o.ipvs ? await o.ipvs.listServices() : []) {
    if (s.fwmark || !s.address || !s.protocol || !s.port) continue;
    const address = s.address;
    if ((o.excludeCIDRs ?? []).some((c) => cidrContains(c, address))) continue;
    await o.ipvs!.deleteService({ protocol: s.protocol, address, port: s.port });
    deletedServices++;
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
