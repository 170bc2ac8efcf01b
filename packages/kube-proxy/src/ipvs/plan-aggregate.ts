import { CountedSet } from './counted-set';
import { IPSET_DEFINITIONS } from './ipset-definitions';
import type { LbNoNodeAccess } from './ipvs-iptables-rules';
import type { PlannedVirtualServer } from './ipvs-plan';

/** What one Service port contributes to a plan (see planServicePort). */
export interface ServiceFragment {
  readonly virtualServers: readonly PlannedVirtualServer[];
  readonly bound: readonly string[];
  /** [set (IPv4 name), entry] pairs. */
  readonly entries: readonly (readonly [string, string])[];
  readonly lbNoNodeAccess: readonly LbNoNodeAccess[];
  /** The Service's namespace/name when its Local policy found no local endpoint. */
  readonly noLocalInternal: string | undefined;
  readonly noLocalExternal: string | undefined;
}

const lbKey = (e: LbNoNodeAccess) => `${e.ip} ${e.protocol} ${e.port}`;

/**
 * The union of every Service port's fragment, kept up to date by adding and withdrawing
 * fragments, so a sync that re-planned one Service costs work for that Service only (plus
 * native copies of the result) instead of a merge over every Service.
 *
 * Two fragments planning the same virtual server key (only invalid configurations do: two
 * Services on one IP:port, or one NodePort) make the result depend on their order; `add` and
 * `remove` report that as a conflict, and the planner then rebuilds in snapshot order.
 */
export class PlanAggregate {
  readonly virtualServers = new Map<string, PlannedVirtualServer>();
  /** Bumped whenever `virtualServers` changes (see CountedSet.version). */
  virtualServersVersion = 0;
  /** Keys whose entry in `virtualServers` changed since the planner last cleared it. */
  readonly touched = new Set<string>();
  private readonly vsKeys = new CountedSet();
  readonly bound = new CountedSet();
  /** By IPv4 set name. */
  readonly entries = new Map<string, CountedSet>(IPSET_DEFINITIONS.map((d) => [d.name, new CountedSet()]));
  readonly noLocalInternal = new CountedSet();
  readonly noLocalExternal = new CountedSet();
  private readonly lbKeys = new CountedSet();
  private readonly lbEntries = new Map<string, LbNoNodeAccess>();

  /** Adds a fragment; false when one of its virtual servers was already planned by another. */
  add(f: ServiceFragment): boolean {
    let clean = true;
    for (const vs of f.virtualServers) {
      if (this.vsKeys.members.has(vs.key)) clean = false;
      this.vsKeys.add(vs.key);
      this.setVirtualServer(vs);
    }
    this.addMembers(f);
    return clean;
  }

  /** Withdraws a fragment added before; false when one of its virtual servers is shared. */
  remove(f: ServiceFragment): boolean {
    let clean = true;
    for (const vs of f.virtualServers) {
      if (this.vsKeys.shared(vs.key)) clean = false;
      this.dropVirtualServer(vs.key);
    }
    this.removeMembers(f);
    return clean;
  }

  /**
   * Swaps a fragment for its successor (same Service port). Members both hold are added before
   * they are withdrawn, so they never leave and unchanged sets keep their version: a moved
   * endpoint changes real servers, not ipsets. False on a shared virtual server.
   */
  replace(prev: ServiceFragment, next: ServiceFragment): boolean {
    let clean = true;
    const nextKeys = new Set(next.virtualServers.map((vs) => vs.key));
    const prevKeys = new Set(prev.virtualServers.map((vs) => vs.key));
    for (const vs of prev.virtualServers) {
      if (this.vsKeys.shared(vs.key)) clean = false;
      if (!nextKeys.has(vs.key)) this.dropVirtualServer(vs.key);
    }
    for (const vs of next.virtualServers) {
      if (!prevKeys.has(vs.key)) {
        if (this.vsKeys.members.has(vs.key)) clean = false;
        this.vsKeys.add(vs.key);
      }
      this.setVirtualServer(vs);
    }
    this.addMembers(next);
    this.removeMembers(prev);
    return clean;
  }

  private setVirtualServer(vs: PlannedVirtualServer): void {
    if (this.virtualServers.get(vs.key) === vs) return;
    this.virtualServers.set(vs.key, vs);
    this.virtualServersVersion++;
    this.touched.add(vs.key);
  }

  /** Withdraws one contribution of a virtual server key; the entry goes with the last. */
  private dropVirtualServer(key: string): void {
    this.vsKeys.delete(key);
    if (!this.vsKeys.members.has(key) && this.virtualServers.delete(key)) {
      this.virtualServersVersion++;
      this.touched.add(key);
    }
  }

  private addMembers(f: ServiceFragment): void {
    for (const a of f.bound) this.bound.add(a);
    for (const [set, entry] of f.entries) this.entries.get(set)!.add(entry);
    for (const e of f.lbNoNodeAccess) {
      this.lbKeys.add(lbKey(e));
      this.lbEntries.set(lbKey(e), e);
    }
    if (f.noLocalInternal !== undefined) this.noLocalInternal.add(f.noLocalInternal);
    if (f.noLocalExternal !== undefined) this.noLocalExternal.add(f.noLocalExternal);
  }

  private removeMembers(f: ServiceFragment): void {
    for (const a of f.bound) this.bound.delete(a);
    for (const [set, entry] of f.entries) this.entries.get(set)!.delete(entry);
    for (const e of f.lbNoNodeAccess) {
      this.lbKeys.delete(lbKey(e));
      if (!this.lbKeys.members.has(lbKey(e))) this.lbEntries.delete(lbKey(e));
    }
    if (f.noLocalInternal !== undefined) this.noLocalInternal.delete(f.noLocalInternal);
    if (f.noLocalExternal !== undefined) this.noLocalExternal.delete(f.noLocalExternal);
  }

  /** Bumped whenever lbNoNodeAccess() changes. */
  get lbVersion(): number {
    return this.lbKeys.version;
  }

  /** The LB IP:ports the node may not reach, sorted (a stable restore payload). */
  lbNoNodeAccess(): LbNoNodeAccess[] {
    return [...this.lbKeys.members].sort().map((k) => this.lbEntries.get(k)!);
  }
}
