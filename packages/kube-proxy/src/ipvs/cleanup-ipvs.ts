import { cidrContains } from '../model/cidr';
import { flushAndDeleteChainsPayload } from '../shared/cleanup-chains';
import { ownedIpsetNames } from './ipset-definitions';
import { IPVS_JUMP_RULES } from './ipvs-iptables-rules';
import type { IpsetLayer, IpvsIptables, IpvsTable, LinkLayer } from './ipvs-kernel';
import { IPVS_FILTER_CHAINS, IPVS_NAT_CHAINS, KUBE_IPVS_INTERFACE } from './ipvs-names';

/** The kernel interfaces cleanupIpvs works through. */
export interface CleanupIpvsOptions {
  /** Left out when the kernel has no IPVS (nothing to delete there then). */
  ipvs?: IpvsTable;
  /** Deletes kube-ipvs0. */
  link: LinkLayer;
  /** Destroys the KUBE-* ipsets. */
  ipset: IpsetLayer;
  /** One executor per family whose chains to remove (iptables and ip6tables). */
  iptables: readonly IpvsIptables[];
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
  for (const exec of o.iptables) {
    const existing: Record<'filter' | 'nat', Set<string>> = {
      filter: await exec.listChains('filter'),
      nat: await exec.listChains('nat'),
    };
    // A jump to a chain that does not exist cannot exist either: skip checking for it.
    for (const j of IPVS_JUMP_RULES) {
      if (existing[j.table].has(j.args.at(-1)!)) await exec.deleteRule(j.table, j.chain, j.args);
    }
    for (const [table, owned] of [
      ['filter', IPVS_FILTER_CHAINS],
      ['nat', IPVS_NAT_CHAINS],
    ] as ['filter' | 'nat', readonly string[]][]) {
      const chains = owned.filter((c) => existing[table].has(c));
      if (chains.length === 0) continue;
      await exec.restore(flushAndDeleteChainsPayload(table, chains));
      deletedChains += chains.length;
    }
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

  const present = await o.ipset.save();
  const ours = [...ownedIpsetNames('IPv4'), ...ownedIpsetNames('IPv6')].filter((n) => present.has(n));
  await o.ipset.destroy(ours);
  return { deletedServices, deletedChains, destroyedIpsets: ours.length, deletedInterface };
}
