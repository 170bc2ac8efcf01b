import type { ApplyError } from '@nodeagent/netfilter';
import { renderRuleArgs } from '@nodeagent/netfilter/iptables';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import {
  type CommandOutput,
  type CommandRunner,
  FakeClock,
  type RunCommandOptions,
} from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { cleanupLeftovers } from '../src/cleanup/cleanup-leftovers';
import { KubeProxyMetrics, snapshotFromObjects } from '../src/index';
import { IptablesProxier, iptablesExecutor } from '../src/iptables/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import { GracefulTermination, IpvsApplier, planIpvs } from '../src/ipvs/index';
import { USERSPACE_CHAINS, USERSPACE_JUMP_RULES } from '../src/userspace/portal-chains';
import { service, slice } from './fixtures';
import { fireRunner } from './proxier-modes';

// --cleanup over a recording runner: every process it starts is one line of `commands`, served
// from the fakes (iptables and ip6tables from a FakeIptables each, ipset from the ipvs kernel's
// FakeIpsets, nft from a set of table names), so the tests assert the exact command list.

const V4_RESTORE = 'iptables-nft-restore --noflush --counters -w 5 -W 100000';
const V6_RESTORE = 'ip6tables-nft-restore --noflush --counters -w 5 -W 100000';
const FOREIGN = [
  '*filter',
  ':DOCKER-USER - [0:0]',
  '-A INPUT -s 192.0.2.1/32 -j DROP',
  '-A FORWARD -j DOCKER-USER',
  'COMMIT',
  '*nat',
  ':FOREIGN-NAT - [0:0]',
  '-A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE',
  '-A OUTPUT -j FOREIGN-NAT',
  'COMMIT',
  '',
].join('\n');

class KernelRunner implements CommandRunner {
  readonly commands: string[] = [];
  readonly v4 = new FakeIptables('ipv4');
  readonly v6 = new FakeIptables('ipv6');
  readonly kernel = fakeKernel();
  readonly nftTables = new Set<string>(['table inet firewalld']);
  failNftList = false;

  async run(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandOutput> {
    this.commands.push([file, ...args].join(' '));
    const input = typeof options.input === 'string' ? options.input : '';
    const ok = (stdout = ''): CommandOutput => ({ stdout, stderr: '', exitCode: 0 });
    if (args[0] === '--version') return ok(`${file} v1.8.9 (nf_tables)\n`);
    const ipt = file.startsWith('ip6tables') ? this.v6 : this.v4;
    if (file.endsWith('-save')) return ok(await ipt.saveText());
    if (file.endsWith('-restore')) {
      try {
        await ipt.restore(input);
        return ok();
      } catch (err) {
        return { stdout: '', stderr: (err as ApplyError).message, exitCode: 1 };
      }
    }
    if (file === 'ipset') return ok(this.ipset(args, input));
    if (file === 'nft') return this.nft(args, input);
    throw new Error(`unexpected command ${file} ${args.join(' ')}`);
  }

  private ipset(args: readonly string[], input: string): string {
    const sets = this.kernel.ipset.sets;
    if (args[0] === 'save') return [...sets].map(([name, s]) => `create ${name} ${s.type}\n`).join('');
    for (const line of input.split('\n').filter((l) => l !== '')) {
      const [cmd, name] = line.split(' ');
      if (cmd !== 'destroy') throw new Error(`unexpected ipset line ${line}`);
      sets.delete(name!);
    }
    return '';
  }

  private nft(args: readonly string[], input: string): CommandOutput {
    if (args[0] === 'list') {
      if (this.failNftList)
        return { stdout: '', stderr: 'netlink: Error: Operation not permitted', exitCode: 1 };
      return { stdout: [...this.nftTables].map((t) => `${t}\n`).join(''), stderr: '', exitCode: 0 };
    }
    for (const line of input.split('\n').filter((l) => l !== '')) {
      const table = line.replace(/^delete /, '');
      if (!this.nftTables.delete(table))
        return { stdout: '', stderr: `Error: No such file or directory\n${line}`, exitCode: 1 };
    }
    return { stdout: '', stderr: '', exitCode: 0 };
  }

  cleanup() {
    return cleanupLeftovers({ runner: this, ipvs: this.kernel.ipvs, link: this.kernel.link });
  }
}

/** iptables-save lines that name one of our chains, KUBE-FIREWALL (kubelet's, kept) aside. */
async function ourLines(ipt: FakeIptables): Promise<string[]> {
  return (await ipt.saveText()).split('\n').filter((l) => /KUBE-(?!FIREWALL)/.test(l));
}

const EMPTY_HOST = [
  'iptables --version',
  'iptables-nft-save',
  'ip6tables --version',
  'ip6tables-nft-save',
  'ipset save',
  'nft list tables',
];

describe('cleanupLeftovers (--cleanup): one read per table, one write per table with leftovers', () => {
  it('starts six processes on a host with nothing of ours (upstream: over a hundred)', async () => {
    const k = new KernelRunner();
    // Other rules in filter and nat: no table of theirs gets a restore.
    await k.v4.restore(FOREIGN);
    const before = await k.v4.saveText();
    const r = await k.cleanup();
    expect(await k.v4.saveText()).toBe(before);
    expect(k.commands).toEqual(EMPTY_HOST);
    expect(r).toMatchObject({ deletedChains: 0, deletedJumps: 0, nftablesTables: [], errors: [] });
    expect(r.ipvs).toEqual({
      deletedServices: 0,
      deletedChains: 0,
      destroyedIpsets: 0,
      deletedInterface: false,
    });
  });

  it("removes iptables mode's jumps and chains in one restore per table, and nothing else", async () => {
    const k = new KernelRunner();
    await k.v4.restore(FOREIGN);
    const clock = new FakeClock();
    const proxier = new IptablesProxier({
      family: 'IPv4',
      nodeName: 'node-a',
      executor: iptablesExecutor(k.v4),
      metrics: new KubeProxyMetrics(),
      clock,
    });
    proxier.onServiceAdd(service('web'));
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    // Started, so that its canary monitor makes the canaries a running kube-proxy leaves.
    proxier.start();
    await fireRunner(clock, proxier, 0);
    expect(proxier.history).toMatchObject([{ kind: 'full', ok: true }]);
    await proxier.stop();
    expect(k.v4.userChains('mangle')).toEqual(['KUBE-PROXY-CANARY']);
    expect((await ourLines(k.v4)).length).toBeGreaterThan(20);

    const r = await k.cleanup();
    expect(k.commands).toEqual([
      'iptables --version',
      'iptables-nft-save',
      V4_RESTORE, // filter
      V4_RESTORE, // nat
      V4_RESTORE, // mangle (KUBE-PROXY-CANARY)
      ...EMPTY_HOST.slice(2),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.deletedJumps).toBe(12);
    expect(await ourLines(k.v4)).toEqual([]);
    const left = await k.v4.saveText();
    for (const line of FOREIGN.split('\n').filter((l) => l.startsWith('-A '))) expect(left).toContain(line);
    // kubelet's KUBE-FIREWALL and its jumps stay, as upstream leaves them.
    expect(left).toContain('-A INPUT -j KUBE-FIREWALL');
  });

  it("removes ipvs mode's jumps, chains, virtual servers, kube-ipvs0 and ipsets (one ipset restore)", async () => {
    const k = new KernelRunner();
    const applier = new IpvsApplier({
      ...k.kernel,
      iptables: iptablesExecutor(k.v4),
      family: 'IPv4',
      graceful: new GracefulTermination({ timeoutMs: 60_000 }),
    });
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-a',
      services: [service('web')],
      endpointSlices: [slice('web', [{ ip: '10.244.1.1' }])],
    });
    await applier.apply(planIpvs(snapshot, {}), 0);
    k.kernel.ipset.createSet('OTHER-SET', 'hash:ip');
    expect((await ourLines(k.v4)).length).toBeGreaterThan(10);

    const r = await k.cleanup();
    expect(k.commands).toEqual([
      'iptables --version',
      'iptables-nft-save',
      V4_RESTORE, // filter
      V4_RESTORE, // nat
      'ip6tables --version',
      'ip6tables-nft-save',
      'ipset save',
      'ipset restore -exist',
      'nft list tables',
    ]);
    expect(r.errors).toEqual([]);
    expect(r.ipvs).toMatchObject({ deletedServices: 1, destroyedIpsets: 17, deletedInterface: true });
    expect(await ourLines(k.v4)).toEqual([]);
    expect([...k.kernel.ipset.sets.keys()]).toEqual(['OTHER-SET']);
    expect(k.kernel.link.links.has('kube-ipvs0')).toBe(false);
  });

  it("removes userspace mode's portal jumps and chains (IPv6 here) in one nat restore", async () => {
    const k = new KernelRunner();
    const payload = [
      '*nat',
      ...USERSPACE_CHAINS.map((c) => `:${c} - [0:0]`),
      ...USERSPACE_JUMP_RULES.map((j) => `-A ${j.builtin} ${renderRuleArgs(j.rule)}`),
      `-A ${USERSPACE_CHAINS[1]} -p tcp -d fd00::10/128 --dport 80 -j REDIRECT --to-ports 40000`,
      'COMMIT',
      '',
    ].join('\n');
    await k.v6.restore(payload);
    const r = await k.cleanup();
    expect(k.commands).toEqual([...EMPTY_HOST.slice(0, 4), V6_RESTORE, ...EMPTY_HOST.slice(4)]);
    expect(r).toMatchObject({ deletedChains: 4, deletedJumps: 4, errors: [] });
    expect(await ourLines(k.v6)).toEqual([]);
  });

  it("deletes both families' kube-proxy nftables tables in one nft -f, and no other table", async () => {
    const k = new KernelRunner();
    k.nftTables.add('table ip kube-proxy').add('table ip6 kube-proxy');
    const r = await k.cleanup();
    expect(k.commands).toEqual([...EMPTY_HOST, 'nft -f -']);
    expect(r.nftablesTables).toEqual(['ip', 'ip6']);
    expect([...k.nftTables]).toEqual(['table inet firewalld']);
  });

  it('goes on past a failing step and reports it, as upstream does', async () => {
    const k = new KernelRunner();
    k.failNftList = true;
    k.kernel.ipset.createSet('KUBE-CLUSTER-IP', 'hash:ip,port');
    k.v4.failNextSave = 1;
    const r = await k.cleanup();
    expect(k.commands).toEqual([...EMPTY_HOST.slice(0, 5), 'ipset restore -exist', 'nft list tables']);
    expect(r.errors.map((e) => (e as Error).message)).toEqual([
      expect.stringContaining('injected failure'),
      expect.stringContaining('nft list tables exited with 1: netlink: Error: Operation not permitted'),
    ]);
    expect(r.ipvs?.destroyedIpsets).toBe(1);
  });
});
