import { IptablesClient, netnsRunner } from '@nodeagent/netfilter';
import { FakeClock } from '@nodeagent/primitives';
import { type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeletLogger } from '../../src/kubelet-logger';
import { initNetworkUtil, type NetworkUtil } from '../../src/network/init-network-util';

// Real iptables in a throwaway network namespace (never the host's): what upstream v1.36's kubelet
// leaves with makeIPTablesUtilChains true, read back with `ip netns exec … iptables-save`, on
// both back ends (upstream's kubelet uses whichever the host's `iptables` is).

/**
 * iptables-save's text without comments and counters, as the fidelity fixtures are kept, one entry
 * per table: the nf_tables back end lists tables in the order they were created, which is not ours.
 */
async function saved(netns: Netns, command: string): Promise<Record<string, string>> {
  const result = await netns.exec(command);
  expect(result.exitCode, result.stderr).toBe(0);
  const tables: Record<string, string> = {};
  const sections = result.stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]$/, '[0:0]'))
    .join('\n')
    .split(/^(?=\*)/m);
  for (const section of sections) tables[section.slice(1, section.indexOf('\n'))] = section.trimEnd();
  return tables;
}

const IPV4_LINES = [
  '*mangle',
  ':PREROUTING ACCEPT [0:0]',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':POSTROUTING ACCEPT [0:0]',
  ':KUBE-IPTABLES-HINT - [0:0]',
  ':KUBE-KUBELET-CANARY - [0:0]',
  'COMMIT',
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':INPUT ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':POSTROUTING ACCEPT [0:0]',
  ':KUBE-KUBELET-CANARY - [0:0]',
  'COMMIT',
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':KUBE-FIREWALL - [0:0]',
  ':KUBE-KUBELET-CANARY - [0:0]',
  '-A INPUT -j KUBE-FIREWALL',
  '-A INPUT -s 192.0.2.1/32 -j ACCEPT',
  '-A OUTPUT -j KUBE-FIREWALL',
  // The line kube-proxy v1.36 also writes (the repository's fidelity/kube-proxy-v1.36/iptables-save.upstream.txt).
  '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
  'COMMIT',
];
const IPV4 = Object.fromEntries(
  IPV4_LINES.join('\n')
    .split(/^(?=\*)/m)
    .map((section) => [section.slice(1, section.indexOf('\n')), section.trimEnd()]),
);

describe.each(['nft', 'legacy'] as const)('makeIPTablesUtilChains in a network namespace (%s)', (backend) => {
  const scope = new NetnsScope('kl-iptutil');
  const v4 = `iptables-${backend}`;
  const v6 = `ip6tables-${backend}`;
  const clock = new FakeClock();
  const lines: string[] = [];
  const record = (_fields: object, msg?: string) => lines.push(msg ?? '');
  const logger: KubeletLogger = { info: record, warn: record, error: record };
  let netns: Netns;
  let util: NetworkUtil;

  beforeAll(async () => {
    netns = await scope.create();
    // A rule already in INPUT: the kubelet's jump must go above it.
    const seeded = await netns.exec(v4, ['-A', 'INPUT', '-s', '192.0.2.1', '-j', 'ACCEPT']);
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    const runner = netnsRunner(netns.path);
    util = await initNetworkUtil({
      clock,
      logger,
      clients: [
        new IptablesClient({ family: 'ipv4', runner, backend }),
        new IptablesClient({ family: 'ipv6', runner, backend }),
      ],
    });
    await Promise.all(util.monitors.map((monitor) => monitor.idle()));
  });
  afterAll(async () => {
    util?.stop();
    await scope.cleanup();
  });

  it('IPv4: the hint chain, canaries, KUBE-FIREWALL jumped to from the top of INPUT and OUTPUT', async () => {
    expect(lines).toEqual(['Initialized iptables rules.', 'Initialized iptables rules.']);
    expect(await saved(netns, `${v4}-save`)).toEqual(IPV4);
  });

  it('IPv6: the hint chain and canaries only', async () => {
    const six = Object.values(await saved(netns, `${v6}-save`)).join('\n');
    expect(six).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(six.match(/:KUBE-KUBELET-CANARY - \[0:0\]/g)).toHaveLength(3);
    expect(six).not.toContain('KUBE-FIREWALL');
    expect(six).not.toMatch(/^-A /m);
  });

  it('a flush of every table is undone one minute later, in the same order', async () => {
    for (const table of ['mangle', 'nat', 'filter']) {
      for (const command of [v4, v6]) {
        for (const flag of ['-F', '-X']) {
          const result = await netns.exec(command, ['-t', table, flag]);
          expect(result.exitCode, result.stderr).toBe(0);
        }
      }
    }
    await netns.exec(v4, ['-A', 'INPUT', '-s', '192.0.2.1', '-j', 'ACCEPT']);
    expect(Object.values(await saved(netns, `${v4}-save`)).join('\n')).not.toContain('KUBE-');
    clock.advance(60_000);
    await Promise.all(util.monitors.map((monitor) => monitor.idle()));
    expect(await saved(netns, `${v4}-save`)).toEqual(IPV4);
    expect((await saved(netns, `${v6}-save`)).mangle).toContain(':KUBE-IPTABLES-HINT - [0:0]');
  });
});
