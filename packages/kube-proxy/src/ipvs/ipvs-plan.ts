import type { Scheduler } from '@nodeagent/ipvs';
import type { IPFamily } from '../model/ip-family';
import type { IptablesRuleset } from '../shared/iptables-ruleset';
import type { LocalDetector } from '../shared/local-detector';
import type { IpsetDefinition } from './ipset-definitions';
import type { LbNoNodeAccess } from './ipvs-iptables-rules';

// What an ipvs-mode sync wants the kernel to hold: the planner's output, the applier's input.

/** One real server of a virtual server. */
export interface PlannedRealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

/** One IPVS virtual service we want in the kernel, with its real servers. */
export interface PlannedVirtualServer {
  /** virtualServerKey(protocol, address, port). */
  readonly key: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly address: string;
  readonly port: number;
  readonly scheduler: Scheduler;
  /** sessionAffinity ClientIP: a persistent service. */
  readonly persistent: boolean;
  /** Persistence timeout in seconds (0 unless persistent). */
  readonly timeout: number;
  /** Real servers by realServerKey. */
  readonly realServers: ReadonlyMap<string, PlannedRealServer>;
  /** servicePortKey of the Service port this serves (for logs and explain). */
  readonly servicePort: string;
}

/** One ipset with the entries it should hold (entries in `ipset save` form). */
export interface PlannedIpset {
  readonly definition: IpsetDefinition;
  /** Kernel name (family-specific). */
  readonly name: string;
  readonly family: IPFamily;
  readonly entries: ReadonlySet<string>;
}

/** Everything one ipvs-mode sync wants the kernel to hold, for one family. */
export interface IpvsPlan {
  readonly family: IPFamily;
  readonly virtualServers: ReadonlyMap<string, PlannedVirtualServer>;
  /** Addresses to bind to kube-ipvs0 (ClusterIPs, external IPs, LB ingress IPs). */
  readonly boundAddresses: ReadonlySet<string>;
  /** Every owned ipset (empty ones included: iptables rules may reference them). */
  readonly ipsets: ReadonlyMap<string, PlannedIpset>;
  /** The nat and filter chains for `iptables-restore --noflush`. */
  readonly iptables: IptablesRuleset;
  /** Services whose Local policy found no local endpoint (sync_proxy_rules_no_local_endpoints_total). */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
  /** LB IP:ports the node itself may not reach (KUBE-IPVS-OUT-FILTER), sorted. */
  readonly lbNoNodeAccess: readonly LbNoNodeAccess[];
  /**
   * Set by IpvsPlanner: this plan's virtual servers are those of its previous plan (the map
   * `delta.from`) except under `delta.virtualServers`, so an applier that last applied that map
   * need not look at the others. Absent on a plan rebuilt from scratch.
   */
  readonly delta?: IpvsPlanDelta;
}

/** How a plan's virtual servers differ from the planner's previous plan's (see IpvsPlan.delta). */
export interface IpvsPlanDelta {
  /**
   * The previous plan's `virtualServers` (the map, not the plan: a plan holding its
   * predecessor would keep every plan ever made alive).
   */
  readonly from: ReadonlyMap<string, PlannedVirtualServer>;
  /** Keys (virtualServerKey) of the virtual servers that differ from `from`'s: changed, added or removed. */
  readonly virtualServers: ReadonlySet<string>;
}

/** What one IpvsPlanner.plan() call takes besides the snapshot. */
export interface IpvsPlanCall {
  /** Replaces the configured NodePort addresses for this call (the node's addresses, looked up per sync). */
  nodePortIPs?: readonly string[];
  /**
   * The caller handed the planner every snapshot of its ProxyState since the previous plan()
   * (none was taken and dropped), so only the Services in `snapshot.changedServices` can
   * differ. The planner then visits just their ports while the Service map is the one it
   * planned last; otherwise (Services changed, a new context, a first plan) it walks them all.
   * Leave it unset after a failed sync: the snapshot of that sync may never have been planned.
   */
  changedOnly?: boolean;
}

/** How much the last IpvsPlanner.plan() call looked at (see IpvsPlanner.lastStats). */
export interface IpvsPlanStats {
  /** Service ports compared against the memo (re-planned or found unchanged). */
  readonly visited: number;
  /** Whether it walked every Service port of the snapshot. */
  readonly walkedAll: boolean;
}

/** Settings of the IPVS planner (IpvsPlanner) from the configuration and the node. */
export interface IpvsPlanOptions {
  /** ipvs.scheduler; '' or undefined means rr. */
  scheduler?: string;
  /** Addresses NodePort virtual servers listen on (this family's node addresses). */
  nodePortIPs?: readonly string[];
  /** The node's own IPs: a LoadBalancer source range containing one lets the node reach the LB IP. */
  nodeIPs?: readonly string[];
  /** iptables.masqueradeBit (default 14). */
  masqueradeBit?: number;
  /** iptables.masqueradeAll. */
  masqueradeAll?: boolean;
  /** Tells traffic from local pods apart (detectLocalMode); default none. */
  localDetector?: LocalDetector;
}
