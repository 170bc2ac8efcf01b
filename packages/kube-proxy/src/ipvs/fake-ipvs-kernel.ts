import {
  type Destination,
  type DestinationKey,
  type DestinationSpec,
  IpvsAlreadyExistsError,
  IpvsNotFoundError,
  type IpvsTimeouts,
  normalizeDestinationSpec,
  normalizeServiceKey,
  normalizeServiceSpec,
  type Service,
  type ServiceKey,
  type ServiceSpec,
} from '@nodeagent/ipvs';
import { serviceFlagBits } from '@nodeagent/ipvs/netlink';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import type { SysctlLayer } from '../runtime/exec-sysctl-layer';
import { iptablesExecutor } from '../shared/iptables-executor';
import { type IpsetType, ipsetCreateArgs } from './ipset-definitions';
import type { IpsetLayer, IpsetState, IpvsTable, LinkLayer } from './ipvs-kernel';
import { canonicalIP, realServerKey, virtualServerKey } from './virtual-server-key';

/**
 * Fakes of the kernel layers the ipvs mode drives, for unit tests on a kernel without IPVS.
 * "Faithful" means they fail where the kernel / tools fail, as far as the applier can observe:
 *
 * - FakeIpvs: inputs go through @nodeagent/ipvs's own validation (normalize*), adding an
 *   existing service or real server fails with IpvsAlreadyExistsError (EEXIST), touching a
 *   missing one with IpvsNotFoundError (ESRCH/ENOENT), deleting a service deletes its real
 *   servers, and listings report flags, timeout and per-real-server connection counts (which
 *   tests set, standing in for traffic). `failAfter(n)` makes the n+1-th write fail.
 * - FakeLinks: addresses need an existing interface ("Cannot find device"); adding a bound
 *   address and deleting an unbound one are no-ops (as the real layer's replace / -force).
 * - FakeIpsets: `restore` runs lines in order and stops at the first bad one like
 *   `ipset restore -exist`: create of an existing set with another type fails, add/del need the
 *   set, entries are checked against the set type, duplicates / missing entries are fine.
 *   Destroying a set referenced by a rule is not modelled.
 * - FakeSysctls: a map; unknown keys read as undefined.
 */
export class FakeIpvs implements IpvsTable {
  readonly services = new Map<string, { service: Service; dests: Map<string, Destination> }>();
  readonly ops: string[] = [];
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  private writesLeft = Number.POSITIVE_INFINITY;

  /** The next `n` writes succeed, the one after fails (then everything works again). */
  failAfter(n: number): void {
    this.writesLeft = n;
  }

  private write(op: string): void {
    if (this.writesLeft === 0) {
      this.writesLeft = Number.POSITIVE_INFINITY;
      throw new Error(`injected failure at ${op}`);
    }
    this.writesLeft--;
    this.ops.push(op);
  }

  private keyOf(k: ServiceKey): string {
    const n = normalizeServiceKey(k);
    if (n.kind === 'fwmark') return `FWM/${n.fwmark}`;
    return virtualServerKey(n.protocol, n.address, n.port);
  }

  private get(k: ServiceKey, op: string) {
    const s = this.services.get(this.keyOf(k));
    if (!s) throw new IpvsNotFoundError(3, 'ESRCH', op, this.keyOf(k));
    return s;
  }

  async listServices(): Promise<Service[]> {
    return [...this.services.values()].map((s) => structuredClone(s.service));
  }
  async listDestinations(k: ServiceKey): Promise<Destination[]> {
    return [...this.get(k, 'list').dests.values()].map((d) => ({ ...d }));
  }
  async addService(spec: ServiceSpec): Promise<void> {
    const n = normalizeServiceSpec(spec, serviceFlagBits);
    const key = this.keyOf(spec);
    if (this.services.has(key)) throw new IpvsAlreadyExistsError(17, 'EEXIST', 'add', key);
    this.write(`add-service ${key}`);
    const persistent = spec.flags?.persistent ?? false;
    const family = n.key.family;
    this.services.set(key, {
      service: {
        family,
        ...(spec.fwmark
          ? { fwmark: spec.fwmark }
          : { protocol: spec.protocol, address: canonicalIP(spec.address!), port: spec.port }),
        scheduler: spec.scheduler,
        flags: { persistent, hashed: true, onePacket: false, shFallback: false, shPort: false },
        flagBits: persistent ? 1 : 0,
        timeout: persistent ? (spec.timeout ?? 300) : 0,
        netmask: family === 'ipv6' ? 128 : 32,
      },
      dests: new Map(),
    });
  }
  async updateService(spec: ServiceSpec): Promise<void> {
    normalizeServiceSpec(spec, serviceFlagBits);
    const s = this.get(spec, 'update');
    this.write(`update-service ${this.keyOf(spec)}`);
    const persistent = spec.flags?.persistent ?? false;
    Object.assign(s.service, {
      scheduler: spec.scheduler,
      flags: { ...s.service.flags, persistent },
      timeout: persistent ? (spec.timeout ?? 300) : 0,
    });
  }
  async deleteService(k: ServiceKey): Promise<void> {
    this.get(k, 'delete');
    this.write(`delete-service ${this.keyOf(k)}`);
    this.services.delete(this.keyOf(k));
  }
  async addDestination(k: ServiceKey, d: DestinationSpec): Promise<void> {
    const s = this.get(k, 'add');
    normalizeDestinationSpec(d, normalizeServiceKey(k));
    const rk = realServerKey(d.address, d.port);
    if (s.dests.has(rk)) throw new IpvsAlreadyExistsError(17, 'EEXIST', 'add', rk);
    this.write(`add-dest ${this.keyOf(k)} ${rk} w${d.weight ?? 1}`);
    s.dests.set(rk, {
      address: canonicalIP(d.address),
      port: d.port,
      family: s.service.family,
      forwarding: d.forwarding ?? 'masquerade',
      weight: d.weight ?? 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      activeConnections: 0,
      inactiveConnections: 0,
      persistentConnections: 0,
    });
  }
  async updateDestination(k: ServiceKey, d: DestinationSpec): Promise<void> {
    const s = this.get(k, 'update');
    const rk = realServerKey(d.address, d.port);
    const cur = s.dests.get(rk);
    if (!cur) throw new IpvsNotFoundError(2, 'ENOENT', 'update', rk);
    this.write(`update-dest ${this.keyOf(k)} ${rk} w${d.weight ?? 1}`);
    cur.weight = d.weight ?? 1;
  }
  async deleteDestination(k: ServiceKey, d: DestinationKey): Promise<void> {
    const s = this.get(k, 'delete');
    const rk = realServerKey(d.address, d.port);
    if (!s.dests.has(rk)) throw new IpvsNotFoundError(2, 'ENOENT', 'delete', rk);
    this.write(`delete-dest ${this.keyOf(k)} ${rk}`);
    s.dests.delete(rk);
  }
  async setTimeouts(t: Partial<IpvsTimeouts>): Promise<void> {
    this.write('set-timeouts');
    this.timeouts = {
      tcp: t.tcp || this.timeouts.tcp,
      tcpFin: t.tcpFin || this.timeouts.tcpFin,
      udp: t.udp || this.timeouts.udp,
    };
  }

  /** Stands in for traffic: the connection counts the kernel would report for a real server. */
  setConnections(vs: string, rs: string, active: number, inactive: number): void {
    const d = this.services.get(vs)?.dests.get(rs);
    if (!d) throw new Error(`no real server ${vs} ${rs}`);
    d.activeConnections = active;
    d.inactiveConnections = inactive;
  }

  /** "TCP/10.96.0.10:80" → ["10.244.1.1:8080 w1", ...]. */
  table(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, s] of [...this.services].sort(([a], [b]) => a.localeCompare(b))) {
      out[k] = [...s.dests.entries()].map(([rk, d]) => `${rk} w${d.weight}`).sort();
    }
    return out;
  }
}

export class FakeLinks implements LinkLayer {
  readonly links = new Map<string, Set<string>>([
    ['lo', new Set(['127.0.0.1', '::1'])],
    ['eth0', new Set(['192.168.0.10', 'fd00::10', 'fe80::1'])],
  ]);
  readonly ops: string[] = [];

  async ensureDummy(name: string): Promise<void> {
    if (!this.links.has(name)) {
      this.ops.push(`add-link ${name}`);
      this.links.set(name, new Set());
    }
  }
  async linkExists(name: string): Promise<boolean> {
    return this.links.has(name);
  }
  async deleteLink(name: string): Promise<void> {
    if (this.links.delete(name)) this.ops.push(`del-link ${name}`);
  }
  async listAddresses(name: string): Promise<string[]> {
    return [...(this.links.get(name) ?? [])];
  }
  private link(name: string): Set<string> {
    const l = this.links.get(name);
    if (!l) throw new Error(`Cannot find device "${name}"`);
    return l;
  }
  async addAddresses(name: string, addresses: readonly string[]): Promise<void> {
    const l = this.link(name);
    for (const a of addresses) l.add(canonicalIP(a));
    this.ops.push(`add-addr ${name} ${addresses.length}`);
  }
  async deleteAddresses(name: string, addresses: readonly string[]): Promise<void> {
    const l = this.link(name);
    for (const a of addresses) l.delete(canonicalIP(a));
    this.ops.push(`del-addr ${name} ${addresses.length}`);
  }
  async localAddresses(family: 'IPv4' | 'IPv6', exceptLink: string): Promise<string[]> {
    const out = new Set<string>();
    for (const [name, addrs] of this.links) {
      if (name === exceptLink) continue;
      for (const a of addrs) {
        if (a.includes(':') !== (family === 'IPv6')) continue;
        if (a.startsWith('127.') || a === '::1' || a.startsWith('fe80:')) continue;
        out.add(a);
      }
    }
    return [...out];
  }
}

const ENTRY_PATTERNS: Record<IpsetType, RegExp> = {
  'hash:ip': /^[0-9a-f.:]+$/,
  'hash:ip,port': /^[0-9a-f.:]+,(tcp|udp|sctp):\d+$/,
  'hash:ip,port,ip': /^[0-9a-f.:]+,(tcp|udp|sctp):\d+,[0-9a-f.:]+$/,
  'hash:ip,port,net': /^[0-9a-f.:]+,(tcp|udp|sctp):\d+,[0-9a-f.:]+(\/\d+)?$/,
  'bitmap:port': /^\d+$/,
};

export class FakeIpsets implements IpsetLayer {
  readonly sets = new Map<string, { type: IpsetType; createArgs: string; entries: Set<string> }>();
  readonly scripts: string[] = [];

  async save(): Promise<Map<string, IpsetState>> {
    return new Map([...this.sets].map(([n, s]) => [n, { type: s.type, entries: new Set(s.entries) }]));
  }
  async restore(script: string): Promise<void> {
    this.scripts.push(script);
    const lines = script.split('\n').filter((l) => l.trim() !== '');
    for (const [i, line] of lines.entries()) {
      const [cmd, name, ...rest] = line.trim().split(/\s+/);
      const fail = (why: string) => {
        throw new Error(`ipset v7.17: Error in line ${i + 1}: ${why}`);
      };
      if (!name) fail('missing set name');
      const set = this.sets.get(name!);
      if (cmd === 'create') {
        const type = rest[0] as IpsetType;
        if (!(type in ENTRY_PATTERNS)) fail(`unknown set type ${type}`);
        if (set && set.createArgs !== rest.join(' '))
          fail('Set cannot be created: set with the same name already exists');
        if (!set) this.sets.set(name!, { type, createArgs: rest.join(' '), entries: new Set() });
      } else if (cmd === 'add' || cmd === 'del') {
        if (!set) fail('The set with the given name does not exist');
        const entry = rest[0] ?? '';
        if (!ENTRY_PATTERNS[set!.type].test(entry))
          fail(`Syntax error: '${entry}' is not a ${set!.type} entry`);
        if (cmd === 'add') set!.entries.add(entry);
        else set!.entries.delete(entry);
      } else fail(`unknown command ${cmd}`);
    }
  }
  async destroy(names: readonly string[]): Promise<void> {
    for (const n of names) this.sets.delete(n);
  }
  /** Creates a set the way `ipset create` would (for "someone else's set" tests). */
  createSet(name: string, type: IpsetType): void {
    this.sets.set(name, { type, createArgs: ipsetCreateArgs(type, 'IPv4').join(' '), entries: new Set() });
  }
}

export class FakeSysctls implements SysctlLayer {
  readonly values = new Map<string, string>([
    ['net.ipv4.vs.conntrack', '0'],
    ['net.ipv4.vs.expire_nodest_conn', '0'],
    ['net.ipv4.vs.expire_quiescent_template', '0'],
    ['net.ipv4.ip_forward', '0'],
    ['net.ipv4.conf.all.arp_ignore', '0'],
    ['net.ipv4.conf.all.arp_announce', '0'],
  ]);
  readonly writes: string[] = [];
  async get(keys: readonly string[]): Promise<Map<string, string>> {
    return new Map(keys.filter((k) => this.values.has(k)).map((k) => [k, this.values.get(k)!]));
  }
  async set(values: readonly (readonly [string, string])[]): Promise<void> {
    for (const [key, value] of values) {
      if (!this.values.has(key)) throw new Error(`sysctl: cannot stat /proc/sys/${key.replaceAll('.', '/')}`);
      this.values.set(key, value);
      this.writes.push(`${key}=${value}`);
    }
  }
}

/**
 * All four fakes plus iptables, ready to hand to an IpvsApplier / IpvsProxier: `iptables` is
 * the executor over `iptablesKernel` (@nodeagent/netfilter's FakeIptables, for assertions).
 */
export function fakeKernel() {
  const iptablesKernel = new FakeIptables();
  return {
    ipvs: new FakeIpvs(),
    link: new FakeLinks(),
    ipset: new FakeIpsets(),
    iptables: iptablesExecutor(iptablesKernel),
    iptablesKernel,
    sysctl: new FakeSysctls(),
  };
}
