import { FakeIpvsHandle } from '@nodeagent/ipvs/testing';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import type { SysctlLayer } from '../runtime/sysctl-layer';
import { iptablesExecutor } from '../shared/iptables-executor';
import { type IpsetType, ipsetCreateArgs } from './ipset-definitions';
import type { IpsetLayer, IpsetState, LinkLayer } from './ipvs-kernel';
import { canonicalIP } from './virtual-server-key';

/**
 * Fakes of the kernel layers the ipvs mode drives, for unit tests on a kernel without IPVS.
 * "Faithful" means they fail where the kernel / tools fail, as far as the applier can observe:
 *
 * - IPVS itself: @nodeagent/ipvs's FakeIpvsHandle (validation, EEXIST/ESRCH/ENOENT, connection
 *   counts set with setConnections, `failAfter(n)`, a `writes` log); see its documentation.
 * - FakeLinks: addresses need an existing interface ("Cannot find device"); adding a bound
 *   address and deleting an unbound one are no-ops (as the real layer's replace / -force).
 * - FakeIpsets: `restore` runs lines in order and stops at the first bad one like
 *   `ipset restore -exist`: create of an existing set with another type fails, add/del need the
 *   set, entries are checked against the set type, duplicates / missing entries are fine.
 *   Destroying a set referenced by a rule is not modelled.
 * - FakeSysctls: a map; unknown keys read as undefined.
 */
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
    ipvs: new FakeIpvsHandle(),
    link: new FakeLinks(),
    ipset: new FakeIpsets(),
    iptables: iptablesExecutor(iptablesKernel),
    iptablesKernel,
    sysctl: new FakeSysctls(),
  };
}
