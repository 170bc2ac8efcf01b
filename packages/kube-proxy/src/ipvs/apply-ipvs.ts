import type { IpvsTimeouts, ServiceKey, ServiceSpec } from '@nodeagent/ipvs';
import { cidrContains } from '../model/cidr';
import type { IPFamily } from '../model/ip-family';
import type { SysctlLayer } from '../runtime/sysctl-layer';
import { renderRestorePayload } from '../shared/iptables-ruleset';
import { ensureJumpRules } from './ensure-jump-rules';
import type { GracefulTermination } from './graceful-termination';
import { renderIpsetRestore } from './ipset-restore';
import { IPVS_JUMP_RULES } from './ipvs-iptables-rules';
import type { IpsetLayer, IpvsIptables, IpvsTable, LinkLayer } from './ipvs-kernel';
import { KUBE_IPVS_INTERFACE } from './ipvs-names';
import type { IpvsPlan, PlannedVirtualServer } from './ipvs-plan';
import { canonicalIP, realServerKey, virtualServerKey } from './virtual-server-key';
import { WriteWindow } from './write-window';

/** Writes (a virtual server weighs 1 + its real servers) a sync keeps outstanding; see WriteWindow. */
const WRITE_WINDOW = 512;

/** The kernel layers an applier drives. */
export interface IpvsKernelLayers {
  ipvs: IpvsTable;
  link: LinkLayer;
  ipset: IpsetLayer;
  iptables: IpvsIptables;
  /** Left out, no sysctl is touched (tests; a node prepared by other means). */
  sysctl?: SysctlLayer;
}

export interface IpvsApplierOptions extends IpvsKernelLayers {
  family: IPFamily;
  graceful: GracefulTermination;
  /** ipvs.excludeCIDRs: virtual servers on these addresses are never deleted. */
  excludeCIDRs?: readonly string[];
  /** ipvs.strictARP: arp_ignore=1 / arp_announce=2 so nodes do not answer ARP for kube-ipvs0 VIPs. */
  strictARP?: boolean;
  /** ipvs.tcpTimeout / tcpFinTimeout / udpTimeout in seconds (0 = leave as is). */
  timeouts?: Partial<IpvsTimeouts>;
}

/** What one apply changed. */
export interface IpvsApplyResult {
  /** The kernel was read back first (first sync, or after a failure / invalidate()). */
  full: boolean;
  servicesAdded: number;
  servicesUpdated: number;
  servicesDeleted: number;
  realServersAdded: number;
  realServersUpdated: number;
  /** Deleted at once (UDP) or after draining. */
  realServersDeleted: number;
  /** Set to weight 0 this sync, to drain. */
  realServersDraining: number;
  addressesBound: number;
  addressesUnbound: number;
  /** Lines of the ipset restore batch (0: nothing to do). */
  ipsetLines: number;
  iptablesRestored: boolean;
}

interface AppliedRealServer {
  readonly address: string;
  readonly port: number;
  weight: number;
}

interface AppliedVirtualServer {
  /** The planned object last applied; identity means "unchanged since". Undefined when read from the kernel. */
  planned: PlannedVirtualServer | undefined;
  key: ServiceKey;
  protocol: string;
  scheduler: string;
  persistent: boolean;
  timeout: number;
  realServers: Map<string, AppliedRealServer>;
}

/** What we believe the kernel holds (read back on a full sync, then kept up to date by our writes). */
interface AppliedState {
  virtualServers: Map<string, AppliedVirtualServer>;
  bound: Set<string>;
  /** Entries per set: plan sets themselves once applied (plans never change their sets). */
  ipsets: Map<string, ReadonlySet<string>>;
  iptablesPayload: string;
}

/** Sysctls upstream's ipvs proxier sets (values as strings, as /proc/sys shows them). */
function wantedSysctls(family: IPFamily, strictARP: boolean): [string, string][] {
  const out: [string, string][] = [
    // Let iptables (masquerade, filter) see IPVS connections.
    ['net.ipv4.vs.conntrack', '1'],
    // Drop connections to a deleted real server at their next packet instead of black-holing them.
    ['net.ipv4.vs.expire_nodest_conn', '1'],
    // Persistence templates of a weight-0 real server expire, so affinity moves off a draining one.
    ['net.ipv4.vs.expire_quiescent_template', '1'],
    family === 'IPv6' ? ['net.ipv6.conf.all.forwarding', '1'] : ['net.ipv4.ip_forward', '1'],
  ];
  if (strictARP) out.push(['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2']);
  return out;
}

/**
 * Waits for every write, then fails with the first error: nothing may still be in flight when
 * apply() reports failure (the next sync re-reads the kernel and must see the final state).
 */
async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
}

const serviceSpec = (vs: PlannedVirtualServer): ServiceSpec => ({
  protocol: vs.protocol,
  address: vs.address,
  port: vs.port,
  scheduler: vs.scheduler,
  flags: { persistent: vs.persistent },
  ...(vs.persistent ? { timeout: vs.timeout } : {}),
});

/**
 * Takes the kernel from what it holds to an IpvsPlan: ipsets in one `ipset restore` batch,
 * iptables in one `iptables-restore --noflush`, then IPVS services and real servers, addresses
 * on kube-ipvs0, and finally removal of what is no longer planned. The first apply (and any
 * after a failure) reads the kernel back; later ones diff against what was applied, skipping
 * virtual servers whose planned object is unchanged, so a one-endpoint change costs a few
 * netlink messages.
 */
export class IpvsApplier {
  private applied: AppliedState | undefined;
  /** Whether the next apply checks every draining real server, not just this apply's. */
  private fullDrainDue = true;
  /** Virtual servers that got a draining real server in the current apply. */
  private drainedNow = new Set<string>();
  /**
   * The virtual servers and addresses of the last plan applied in full, while the applied state
   * stands: a plan whose delta starts from them is applied by looking at its delta only.
   */
  private lastApplied:
    | { virtualServers: IpvsPlan['virtualServers']; bound: IpvsPlan['boundAddresses'] }
    | undefined;

  constructor(private readonly o: IpvsApplierOptions) {}

  /** Forget what was applied: the next apply reads the kernel back (after a failure, hourly). */
  invalidate(): void {
    this.applied = undefined;
    this.lastApplied = undefined;
  }

  /**
   * Makes the next apply check every draining real server (the proxier's periodic check). Other
   * applies check only the virtual servers they just drained: each check reads a connection
   * table, and re-reading every draining one on every endpoint change made a change's cost grow
   * with the number of recent changes.
   */
  requestFullDrain(): void {
    this.fullDrainDue = true;
  }

  /** Whether the next apply will be a full one. */
  get needsFullSync(): boolean {
    return this.applied === undefined;
  }

  /**
   * Makes the kernel match `plan` (`now`: clock ms, stamped on real servers that start draining)
   * and counts what it changed. On any failure the applied state is forgotten, so the next apply
   * reads the kernel back, and the error is rethrown.
   */
  async apply(plan: IpvsPlan, now: number): Promise<IpvsApplyResult> {
    const full = this.applied === undefined;
    const r: IpvsApplyResult = {
      full,
      servicesAdded: 0,
      servicesUpdated: 0,
      servicesDeleted: 0,
      realServersAdded: 0,
      realServersUpdated: 0,
      realServersDeleted: 0,
      realServersDraining: 0,
      addressesBound: 0,
      addressesUnbound: 0,
      ipsetLines: 0,
      iptablesRestored: false,
    };
    this.drainedNow = new Set();
    // Taken before anything runs: a failure below must leave it cleared.
    const last = this.lastApplied;
    this.lastApplied = undefined;
    try {
      if (full) {
        await this.prepareNode();
        this.applied = await this.readKernel(plan);
      }
      const applied = this.applied!;
      // Only the delta's virtual servers can differ from what the kernel holds.
      const delta = !full && plan.delta?.from === last?.virtualServers ? plan.delta : undefined;
      await this.applyIpsets(plan, applied, r);
      await this.applyIptables(plan, applied, r);
      if (full) await this.ensureJumpRules();
      await this.applyVirtualServers(plan, applied, r, now, delta?.virtualServers);
      // The same address set as last applied (the planner reuses it while unchanged): no diff.
      const sameBound = delta !== undefined && plan.boundAddresses === last?.bound;
      if (!sameBound) await this.applyAddresses(plan, applied, r);
      await this.removeStale(plan, applied, r, delta?.virtualServers, sameBound);
      const all = full || this.fullDrainDue;
      r.realServersDeleted += await this.drain(applied, now, all ? undefined : this.drainedNow);
      if (all) this.fullDrainDue = false;
      this.lastApplied = { virtualServers: plan.virtualServers, bound: plan.boundAddresses };
      return r;
    } catch (err) {
      // Some writes may have happened: only a fresh read of the kernel tells which.
      this.applied = undefined;
      throw err;
    }
  }

  /** Deletes drained real servers (also run between syncs); returns how many were deleted. */
  async processGracefulTermination(now: number): Promise<number> {
    if (!this.applied) return 0;
    try {
      return await this.drain(this.applied, now);
    } catch (err) {
      this.applied = undefined;
      throw err;
    }
  }

  private async drain(applied: AppliedState, now: number, only?: ReadonlySet<string>): Promise<number> {
    if (this.o.graceful.size === 0 || only?.size === 0) return 0;
    let n = 0;
    for (const [vs, keys] of await this.o.graceful.process(this.o.ipvs, now, only)) {
      for (const k of keys) applied.virtualServers.get(vs)?.realServers.delete(k);
      n += keys.length;
    }
    return n;
  }

  private async prepareNode(): Promise<void> {
    const { link, sysctl, ipvs } = this.o;
    await link.ensureDummy(KUBE_IPVS_INTERFACE);
    if (sysctl) {
      const wanted = wantedSysctls(this.o.family, this.o.strictARP ?? false);
      const current = await sysctl.get(wanted.map(([k]) => k));
      await sysctl.set(wanted.filter(([k, v]) => current.get(k) !== v));
    }
    const t = this.o.timeouts;
    if (t && (t.tcp || t.tcpFin || t.udp)) await ipvs.setTimeouts(t);
  }

  /**
   * Jumps from the built-in chains, checked on full syncs only. Runs after the restore, which
   * declares (creates) every chain they jump to: no separate create-chain calls, each of which
   * costs a process.
   */
  private async ensureJumpRules(): Promise<void> {
    await ensureJumpRules(this.o.iptables, IPVS_JUMP_RULES);
  }

  private excluded(address: string): boolean {
    return (this.o.excludeCIDRs ?? []).some((c) => cidrContains(c, address));
  }

  private async readKernel(plan: IpvsPlan): Promise<AppliedState> {
    const fam = this.o.family === 'IPv6' ? 'ipv6' : 'ipv4';
    const virtualServers = new Map<string, AppliedVirtualServer>();
    for (const s of await this.o.ipvs.listServices()) {
      // Firewall-mark services, other families and excluded addresses are not ours to manage.
      if (s.fwmark || s.family !== fam || !s.address || !s.protocol || !s.port) continue;
      const address = canonicalIP(s.address);
      if (this.excluded(address)) continue;
      const key: ServiceKey = { protocol: s.protocol, address, port: s.port };
      const realServers = new Map<string, AppliedRealServer>();
      for (const d of await this.o.ipvs.listDestinations(key)) {
        const a = canonicalIP(d.address);
        realServers.set(realServerKey(a, d.port), { address: a, port: d.port, weight: d.weight });
      }
      virtualServers.set(virtualServerKey(s.protocol, address, s.port), {
        planned: undefined,
        key,
        protocol: s.protocol,
        scheduler: s.scheduler,
        persistent: s.flags.persistent,
        timeout: s.flags.persistent ? s.timeout : 0,
        realServers,
      });
    }
    const bound = new Set(
      (await this.o.link.listAddresses(KUBE_IPVS_INTERFACE))
        .filter((a) => a.includes(':') === (this.o.family === 'IPv6'))
        .map(canonicalIP),
    );
    const kernelSets = await this.o.ipset.save();
    const ipsets = new Map<string, ReadonlySet<string>>();
    for (const name of plan.ipsets.keys()) {
      const s = kernelSets.get(name);
      if (s) ipsets.set(name, new Set(s.entries));
    }
    return { virtualServers, bound, ipsets, iptablesPayload: '' };
  }

  private async applyIpsets(plan: IpvsPlan, applied: AppliedState, r: IpvsApplyResult): Promise<void> {
    // A set the planner handed back unchanged (the very object applied last time) needs no diff.
    const changed = [...plan.ipsets.values()].filter((s) => applied.ipsets.get(s.name) !== s.entries);
    if (changed.length === 0) return;
    const script = renderIpsetRestore(changed, applied.ipsets);
    if (script !== '') {
      r.ipsetLines = script.split('\n').length - 1;
      await this.o.ipset.restore(script);
    }
    for (const set of changed) applied.ipsets.set(set.name, set.entries);
  }

  private async applyIptables(plan: IpvsPlan, applied: AppliedState, r: IpvsApplyResult): Promise<void> {
    const payload = renderRestorePayload(plan.iptables);
    if (payload === applied.iptablesPayload) return;
    await this.o.iptables.restore(payload);
    applied.iptablesPayload = payload;
    r.iptablesRestored = true;
  }

  private async applyVirtualServers(
    plan: IpvsPlan,
    applied: AppliedState,
    r: IpvsApplyResult,
    now: number,
    /** With a usable delta: the only keys that can have changed. */
    only: ReadonlySet<string> | undefined,
  ): Promise<void> {
    const candidates = only
      ? [...only].flatMap((k) => plan.virtualServers.get(k) ?? [])
      : plan.virtualServers.values();
    // Virtual servers are independent: their writes go out concurrently, so the IPVS handle
    // can pipeline and batch them (one round trip per write would dominate a full sync), but
    // only about WRITE_WINDOW at a time (see WriteWindow). After a failure the rest are skipped:
    // apply() fails and the next sync reads the kernel back anyway.
    const window = new WriteWindow(WRITE_WINDOW);
    for (const vs of candidates) {
      if (applied.virtualServers.get(vs.key)?.planned === vs) continue;
      const started = await window.run(vs.realServers.size + 1, () =>
        this.applyVirtualServer(vs, applied, r, now),
      );
      if (!started) break;
    }
    await window.drain();
  }

  private async applyVirtualServer(
    vs: PlannedVirtualServer,
    applied: AppliedState,
    r: IpvsApplyResult,
    now: number,
  ): Promise<void> {
    const { ipvs, graceful } = this.o;
    let cur = applied.virtualServers.get(vs.key);
    const key: ServiceKey = { protocol: vs.protocol, address: vs.address, port: vs.port };
    const writes: Promise<void>[] = [];
    if (!cur) {
      // Not awaited: the handle sends writes in order, so the real servers below follow it in
      // the same batch instead of a round trip later (if it fails, so do they, and its error,
      // first in `writes`, is the one reported).
      writes.push(ipvs.addService(serviceSpec(vs)));
      r.servicesAdded++;
      cur = {
        planned: undefined,
        key,
        protocol: vs.protocol,
        scheduler: vs.scheduler,
        persistent: vs.persistent,
        timeout: vs.timeout,
        realServers: new Map(),
      };
      applied.virtualServers.set(vs.key, cur);
    } else if (
      cur.scheduler !== vs.scheduler ||
      cur.persistent !== vs.persistent ||
      cur.timeout !== vs.timeout
    ) {
      writes.push(ipvs.updateService(serviceSpec(vs)));
      r.servicesUpdated++;
      Object.assign(cur, { scheduler: vs.scheduler, persistent: vs.persistent, timeout: vs.timeout });
    }
    const vsState = cur;
    for (const [k, rs] of vs.realServers) {
      const have = vsState.realServers.get(k);
      // Wanted again while draining: back into rotation.
      graceful.remove(vs.key, k);
      const spec = { address: rs.address, port: rs.port, weight: rs.weight };
      if (!have) {
        // The handle only reads spec, so the model may keep it.
        vsState.realServers.set(k, spec);
        writes.push(ipvs.addDestination(key, spec));
        r.realServersAdded++;
      } else if (have.weight !== rs.weight) {
        have.weight = rs.weight;
        writes.push(ipvs.updateDestination(key, spec));
        r.realServersUpdated++;
      }
    }
    for (const [k, have] of vsState.realServers) {
      if (vs.realServers.has(k)) continue;
      if (vs.protocol === 'udp') {
        // No connections to drain for UDP: stale flows expire via expire_nodest_conn.
        vsState.realServers.delete(k);
        graceful.remove(vs.key, k);
        writes.push(ipvs.deleteDestination(key, { address: have.address, port: have.port }));
        r.realServersDeleted++;
        continue;
      }
      if (have.weight !== 0) {
        have.weight = 0;
        this.drainedNow.add(vs.key);
        writes.push(ipvs.updateDestination(key, { address: have.address, port: have.port, weight: 0 }));
        r.realServersDraining++;
      }
      graceful.add({
        virtualServer: vs.key,
        service: key,
        address: have.address,
        port: have.port,
        since: now,
      });
    }
    // The model is updated before the writes land; if one fails, apply() drops the whole model.
    await settleAll(writes);
    vsState.planned = vs;
  }

  private async applyAddresses(plan: IpvsPlan, applied: AppliedState, r: IpvsApplyResult): Promise<void> {
    const add = [...plan.boundAddresses].filter((a) => !applied.bound.has(a));
    if (add.length === 0) return;
    await this.o.link.addAddresses(KUBE_IPVS_INTERFACE, add);
    for (const a of add) applied.bound.add(a);
    r.addressesBound += add.length;
  }

  private async removeStale(
    plan: IpvsPlan,
    applied: AppliedState,
    r: IpvsApplyResult,
    /** With a usable delta: the only keys that can have gone. */
    only: ReadonlySet<string> | undefined,
    sameBound: boolean,
  ): Promise<void> {
    const deletes: Promise<void>[] = [];
    for (const k of only ?? applied.virtualServers.keys()) {
      const cur = applied.virtualServers.get(k);
      if (!cur || plan.virtualServers.has(k)) continue;
      applied.virtualServers.delete(k);
      this.o.graceful.removeVirtualServer(k);
      deletes.push(this.o.ipvs.deleteService(cur.key));
      r.servicesDeleted++;
    }
    await settleAll(deletes);
    if (sameBound) return;
    const gone = [...applied.bound].filter((a) => !plan.boundAddresses.has(a));
    if (gone.length > 0) {
      await this.o.link.deleteAddresses(KUBE_IPVS_INTERFACE, gone);
      for (const a of gone) applied.bound.delete(a);
      r.addressesUnbound += gone.length;
    }
  }
}
