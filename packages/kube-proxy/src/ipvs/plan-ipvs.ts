import type { Scheduler } from '@nodeagent/ipvs';
import { joinHostPort } from '@nodeagent/primitives/go-text';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import { cidrContains } from '../model/cidr';
import { compareStrings } from '../model/compare-strings';
import type { EndpointInfo } from '../model/endpoint';
import type { IPFamily } from '../model/ip-family';
import { ipFamilyOf } from '../model/ip-family';
import { OverlayMap } from '../model/overlay-map';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServicePort } from '../model/service-port';
import { NO_LOCAL_DETECTOR } from '../shared/local-detector';
import type { CountedSet } from './counted-set';
import { IPSET_DEFINITIONS, ipsetNameFor } from './ipset-definitions';
import { renderIpsetRestore } from './ipset-restore';
import { buildIpvsIptablesRules, type LbNoNodeAccess } from './ipvs-iptables-rules';
import * as n from './ipvs-names';
import type {
  IpvsPlan,
  IpvsPlanCall,
  IpvsPlanOptions,
  IpvsPlanStats,
  PlannedIpset,
  PlannedRealServer,
  PlannedVirtualServer,
} from './ipvs-plan';
import { PlanAggregate, type ServiceFragment } from './plan-aggregate';
import { PortKeysByService } from './port-keys-by-service';
import { canonicalIP, realServerKey, virtualServerKey } from './virtual-server-key';

/** What every Service port's fragment depends on besides the port and its endpoints. */
interface PlanContext {
  readonly scheduler: Scheduler;
  readonly nodePortIPs: readonly string[];
  readonly nodeIPs: readonly string[];
}

/** Re-plans one Service port seen by plan() call `seen`; true on a conflict. */
type Replan = (key: string, sp: ServicePort, seen: number) => boolean;

interface MemoEntry {
  readonly sp: ServicePort;
  readonly eps: readonly EndpointInfo[] | undefined;
  readonly fragment: ServiceFragment;
  /** The plan() call that last saw this Service port (stale entries are withdrawn). */
  seen: number;
}

/**
 * Turns snapshots into IpvsPlans. Pure apart from a memo: a Service port whose ServicePort and
 * endpoint list are the same objects as last time (the snapshot keeps unchanged ones) reuses its
 * fragment, so a one-endpoint change re-plans one Service, and unchanged virtual servers keep
 * their identity (the applier skips them without comparing). The union of the fragments is
 * kept too (PlanAggregate) and only changed fragments are withdrawn and added. With
 * `changedOnly` a plan whose Service map is the one planned last visits only the ports of the
 * snapshot's changedServices, and the virtual server map handed out is a new OverlayMap version
 * of the last: one endpoint change costs work for one Service, not a pass over every Service.
 */
export class IpvsPlanner {
  private memo = new Map<string, MemoEntry>();
  private readonly portKeys = new PortKeysByService();
  private memoContext = '';
  private agg = new PlanAggregate();
  private generation = 0;
  /** The copies handed out last, reused while their source is unchanged (see copyOf). */
  private setCopies = new Map<CountedSet, { version: number; copy: ReadonlySet<string> }>();
  private lbCopy: { version: number; copy: LbNoNodeAccess[] } | undefined;
  /** The virtual servers handed out last, unless the aggregate was rebuilt since (then no delta). */
  private last: OverlayMap<string, PlannedVirtualServer> | undefined;
  /** The Service map of the last plan (a snapshot with the same one changed endpoints only). */
  private lastServices: ProxySnapshot['services'] | undefined;
  /** Service ports the last plan() compared against its memo (tests count it: see IpvsPlanStats). */
  lastStats: IpvsPlanStats = { visited: 0, walkedAll: false };

  constructor(private readonly options: IpvsPlanOptions = {}) {}

  /**
   * The kernel state the snapshot calls for: virtual servers, kube-ipvs0 addresses, ipset
   * entries and iptables rules. Service ports unchanged since the last call reuse their earlier
   * fragment; `call.nodePortIPs` replaces the configured NodePort addresses for this call, and
   * `call.changedOnly` lets it visit only the Services the snapshot names as changed.
   */
  plan(snapshot: ProxySnapshot, call: IpvsPlanCall = {}): IpvsPlan {
    const family = snapshot.family;
    const opts: IpvsPlanOptions = {
      ...this.options,
      nodePortIPs: call.nodePortIPs ?? this.options.nodePortIPs,
    };
    const nodePortIPs = (opts.nodePortIPs ?? [])
      .filter((ip) => ipFamilyOf(ip) === family)
      .map(canonicalIP)
      .sort();
    const nodeIPs = (opts.nodeIPs ?? []).filter((ip) => ipFamilyOf(ip) === family);
    // Anything besides the Service itself that changes a fragment invalidates the memo.
    const context = JSON.stringify([family, snapshot.nodeName, snapshot.nodeLabels, nodePortIPs, nodeIPs]);
    const scheduler = (opts.scheduler || 'rr') as Scheduler;
    const sameContext = context === this.memoContext;
    if (!sameContext) {
      this.memo = new Map();
      this.portKeys.clear();
      this.resetAggregate();
      this.memoContext = context;
    }
    const replan = (key: string, sp: ServicePort, seen: number) =>
      this.replan(key, sp, snapshot, seen, { scheduler, nodePortIPs, nodeIPs });
    // Only endpoints changed (the very Service map planned last), and the caller planned every
    // snapshot since: the changed Services' ports are the ones planned for them last time.
    const partial =
      call.changedOnly === true &&
      sameContext &&
      this.last !== undefined &&
      snapshot.services === this.lastServices;
    const conflict = partial ? this.planChanged(snapshot, replan) : this.planAll(snapshot, replan);
    // Duplicate virtual server keys: the last Service port in snapshot order wins, as in a
    // fresh plan, which only a rebuild in that order reproduces.
    if (conflict) {
      this.resetAggregate();
      for (const key of snapshot.services.keys()) this.agg.add(this.memo.get(key)!.fragment);
    }
    this.lastServices = snapshot.services;
    return this.assemble(family, opts);
  }

  /** Visits every Service port of the snapshot and drops the memo's others; true on a conflict. */
  private planAll(snapshot: ProxySnapshot, replan: Replan): boolean {
    const gen = ++this.generation;
    let conflict = false;
    let visited = 0;
    for (const [key, sp] of snapshot.services) {
      visited++;
      if (replan(key, sp, gen)) conflict = true;
    }
    // Every current key is in the memo now: anything more is a Service port that went away.
    if (this.memo.size > snapshot.services.size) {
      for (const [key, m] of this.memo) {
        if (m.seen === gen) continue;
        if (!this.agg.remove(m.fragment)) conflict = true;
        this.memo.delete(key);
        this.portKeys.delete(m.sp.service, key);
      }
    }
    this.lastStats = { visited, walkedAll: true };
    return conflict;
  }

  /** Visits the ports of the snapshot's changed Services only; true on a conflict. */
  private planChanged(snapshot: ProxySnapshot, replan: Replan): boolean {
    let conflict = false;
    let visited = 0;
    for (const service of snapshot.changedServices) {
      for (const key of this.portKeys.keys(service)) {
        visited++;
        if (replan(key, snapshot.services.get(key)!, this.memo.get(key)!.seen)) conflict = true;
      }
    }
    this.lastStats = { visited, walkedAll: false };
    return conflict;
  }

  /** Re-plans one Service port unless its inputs are the memo's; true on a conflict. */
  private replan(
    key: string,
    sp: ServicePort,
    snapshot: ProxySnapshot,
    seen: number,
    ctx: PlanContext,
  ): boolean {
    const eps = snapshot.endpoints.get(key);
    const cached = this.memo.get(key);
    if (cached && cached.sp === sp && cached.eps === eps) {
      cached.seen = seen;
      return false;
    }
    const fragment = planServicePort(sp, eps ?? [], snapshot, ctx.scheduler, ctx.nodePortIPs, ctx.nodeIPs);
    const clean = cached ? this.agg.replace(cached.fragment, fragment) : this.agg.add(fragment);
    if (cached && cached.sp.service !== sp.service) this.portKeys.delete(cached.sp.service, key);
    this.memo.set(key, { sp, eps, fragment, seen });
    this.portKeys.add(sp.service, key);
    return !clean;
  }

  /** The plan from the aggregate, with copies that later plans leave alone. */
  private assemble(family: IPFamily, opts: IpvsPlanOptions): IpvsPlan {
    const agg = this.agg;
    // A plan must not change under its holder when the next one is made. Unchanged parts are
    // the very objects of the last plan, which lets the applier skip them; the virtual servers
    // are a new version of the last map carrying only the touched keys' edits.
    const previous = this.last;
    const touched = new Set(agg.touched);
    agg.touched.clear();
    const virtualServers = previous
      ? previous.withChanges((draft) => {
          for (const key of touched) {
            const vs = agg.virtualServers.get(key);
            if (vs) draft.set(key, vs);
            else draft.delete(key);
          }
        })
      : OverlayMap.from(agg.virtualServers);
    const bound = this.copyOf(agg.bound);
    const entries = new Map<string, ReadonlySet<string>>();
    for (const [set, counted] of agg.entries)
      entries.set(set, set === n.KUBE_IPVS_IPS ? bound : this.copyOf(counted));
    if (this.lbCopy?.version !== agg.lbVersion)
      this.lbCopy = { version: agg.lbVersion, copy: agg.lbNoNodeAccess() };
    const lbNoNodeAccess = this.lbCopy.copy;

    const ipsets = new Map<string, PlannedIpset>();
    for (const d of IPSET_DEFINITIONS) {
      const name = ipsetNameFor(d.name, family);
      ipsets.set(name, { definition: d, name, family, entries: entries.get(d.name)! });
    }
    const iptables = buildIpvsIptablesRules({
      family,
      nonEmpty: (set) => (entries.get(set)?.size ?? 0) > 0,
      masqueradeBit: opts.masqueradeBit ?? 14,
      masqueradeAll: opts.masqueradeAll ?? false,
      localDetector: opts.localDetector ?? NO_LOCAL_DETECTOR,
      lbNoNodeAccess,
    });
    // A rebuilt aggregate (new context, or a conflict) starts over: no delta from the last plan.
    const delta = previous && { from: previous, virtualServers: touched };
    const plan: IpvsPlan = {
      family,
      virtualServers,
      boundAddresses: bound,
      ipsets,
      iptables,
      noLocalEndpoints: { internal: agg.noLocalInternal.size, external: agg.noLocalExternal.size },
      lbNoNodeAccess,
      ...(delta ? { delta } : {}),
    };
    this.last = virtualServers;
    return plan;
  }

  private resetAggregate(): void {
    this.last = undefined;
    this.agg = new PlanAggregate();
    this.setCopies = new Map();
    this.lbCopy = undefined;
  }

  private copyOf(c: CountedSet): ReadonlySet<string> {
    const hit = this.setCopies.get(c);
    if (hit?.version === c.version) return hit.copy;
    const copy: ReadonlySet<string> = new Set(c.members);
    this.setCopies.set(c, { version: c.version, copy });
    return copy;
  }
}

/** A one-off plan (no memo): `render`, tests and benchmarks. */
export function planIpvs(snapshot: ProxySnapshot, options: IpvsPlanOptions = {}): IpvsPlan {
  return new IpvsPlanner(options).plan(snapshot);
}

function planServicePort(
  sp: ServicePort,
  eps: readonly EndpointInfo[],
  snapshot: ProxySnapshot,
  scheduler: Scheduler,
  nodePortIPs: readonly string[],
  nodeIPs: readonly string[],
): ServiceFragment {
  const protocol = sp.protocol.toLowerCase() as PlannedVirtualServer['protocol'];
  const cat = categorizeEndpoints(eps, sp, snapshot.nodeName, snapshot.nodeLabels);
  const internalEps = sp.internalPolicyLocal ? cat.localEndpoints : cat.clusterEndpoints;
  const externalEps = sp.externalPolicyLocal ? cat.localEndpoints : cat.clusterEndpoints;
  const internal = realServersOf(internalEps);
  const external = externalEps === internalEps ? internal : realServersOf(externalEps);
  const virtualServers: PlannedVirtualServer[] = [];
  const bound: string[] = [];
  const entries: [string, string][] = [];
  const lbNoNodeAccess: LbNoNodeAccess[] = [];
  const ipPort = (ip: string) => `${ip},${protocol}:${sp.port}`;
  const vs = (address: string, port: number, realServers: ReadonlyMap<string, PlannedRealServer>) =>
    virtualServers.push({
      key: virtualServerKey(protocol, address, port),
      protocol,
      address,
      port,
      scheduler,
      persistent: sp.stickyMaxAgeSeconds > 0,
      timeout: sp.stickyMaxAgeSeconds,
      realServers,
      servicePort: sp.key,
    });

  // Hairpin: a local endpoint reaching its own Service must be masqueraded.
  for (const ep of eps) {
    if (!ep.isLocal) continue;
    const ip = canonicalIP(ep.ip);
    entries.push([n.KUBE_LOOP_BACK, `${ip},${protocol}:${ep.port},${ip}`]);
  }

  const clusterIP = canonicalIP(sp.clusterIP);
  entries.push([n.KUBE_CLUSTER_IP, ipPort(clusterIP)]);
  bound.push(clusterIP);
  vs(clusterIP, sp.port, internal);

  for (const raw of sp.externalIPs) {
    const ip = canonicalIP(raw);
    entries.push([sp.externalPolicyLocal ? n.KUBE_EXTERNAL_IP_LOCAL : n.KUBE_EXTERNAL_IP, ipPort(ip)]);
    bound.push(ip);
    vs(ip, sp.port, external);
  }

  const allowFromNode = sp.loadBalancerSourceRanges.some((cidr) =>
    nodeIPs.some((ip) => cidrContains(cidr, ip)),
  );
  for (const raw of sp.loadBalancerVIPs) {
    const ip = canonicalIP(raw);
    entries.push([n.KUBE_LOAD_BALANCER, ipPort(ip)]);
    if (sp.externalPolicyLocal) entries.push([n.KUBE_LOAD_BALANCER_LOCAL, ipPort(ip)]);
    if (sp.loadBalancerSourceRanges.length > 0) {
      entries.push([n.KUBE_LOAD_BALANCER_FW, ipPort(ip)]);
      for (const cidr of sp.loadBalancerSourceRanges)
        entries.push([n.KUBE_LOAD_BALANCER_SOURCE_CIDR, `${ipPort(ip)},${cidr}`]);
      // The node reaches its own LB IP from that IP (it is bound to kube-ipvs0).
      if (allowFromNode) entries.push([n.KUBE_LOAD_BALANCER_SOURCE_IP, `${ipPort(ip)},${ip}`]);
      // Otherwise the node must be kept out explicitly: its connections skip the firewall.
      else lbNoNodeAccess.push({ ip, protocol, port: sp.port });
    }
    bound.push(ip);
    vs(ip, sp.port, external);
  }

  if (sp.nodePort !== 0) {
    const local = sp.externalPolicyLocal;
    if (protocol === 'sctp') {
      for (const ip of nodePortIPs) {
        const entry = `${ip},sctp:${sp.nodePort}`;
        entries.push([n.KUBE_NODE_PORT_SCTP_HASH, entry]);
        if (local) entries.push([n.KUBE_NODE_PORT_LOCAL_SCTP_HASH, entry]);
      }
    } else {
      const tcp = protocol === 'tcp';
      entries.push([tcp ? n.KUBE_NODE_PORT_TCP : n.KUBE_NODE_PORT_UDP, String(sp.nodePort)]);
      if (local)
        entries.push([tcp ? n.KUBE_NODE_PORT_LOCAL_TCP : n.KUBE_NODE_PORT_LOCAL_UDP, String(sp.nodePort)]);
    }
    for (const ip of nodePortIPs) vs(ip, sp.nodePort, external);
  }
  if (sp.healthCheckNodePort !== 0)
    entries.push([n.KUBE_HEALTH_CHECK_NODE_PORT, String(sp.healthCheckNodePort)]);

  return {
    virtualServers,
    bound,
    entries,
    lbNoNodeAccess,
    noLocalInternal: sp.internalPolicyLocal && cat.localEndpoints.length === 0 ? sp.service : undefined,
    noLocalExternal:
      sp.externalPolicyLocal &&
      (sp.nodePort !== 0 || sp.externalIPs.length > 0 || sp.loadBalancerVIPs.length > 0) &&
      cat.localEndpoints.length === 0
        ? sp.service
        : undefined,
  };
}

function realServersOf(eps: readonly EndpointInfo[]): ReadonlyMap<string, PlannedRealServer> {
  const out = new Map<string, PlannedRealServer>();
  for (const ep of eps) {
    const address = canonicalIP(ep.ip);
    out.set(realServerKey(address, ep.port), { address, port: ep.port, weight: 1 });
  }
  return out;
}

/** "TCP/10.96.0.1:80 rr persistent 10800" lines, then indented real servers: for `render`. */
export function formatIpvsPlan(plan: IpvsPlan): string {
  const out: string[] = [];
  out.push(`# IPVS virtual servers (${plan.family})`);
  for (const vs of [...plan.virtualServers.values()].sort((a, b) => compareStrings(a.key, b.key))) {
    const persist = vs.persistent ? ` persistent ${vs.timeout}` : '';
    out.push(
      `${vs.protocol.toUpperCase()}  ${joinHostPort(vs.address, vs.port)} ${vs.scheduler}${persist}  # ${vs.servicePort}`,
    );
    for (const rs of vs.realServers.values())
      out.push(`  -> ${joinHostPort(rs.address, rs.port)}  Masq  ${rs.weight}`);
  }
  out.push(`# ${n.KUBE_IPVS_INTERFACE} addresses`);
  for (const a of [...plan.boundAddresses].sort()) out.push(a);
  out.push('# ipset restore input');
  out.push(renderIpsetRestore(plan.ipsets.values(), undefined).trimEnd());
  return out.join('\n');
}
