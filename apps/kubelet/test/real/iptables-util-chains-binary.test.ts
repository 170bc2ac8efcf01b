import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePort, killChild, NO_HOST_IPTABLES, node, waitFor } from '../binary-harness';

// The built binary with makeIPTablesUtilChains at upstream's default (true) and set to false, each
// run inside a throwaway network namespace so any chains land there, never in the host's iptables.

let dir: string;
let fake: FakeRuntime;
const scope = new NetnsScope('kl-iptbin');
const children: ChildProcess[] = [];

interface Started {
  netns: Netns;
  stderr: () => string;
  exited: () => boolean;
}

/** Starts a standalone kubelet on the fake runtime in a new namespace; resolves once it has started. */
async function startInNetns(name: string, extraFlags: string[]): Promise<Started> {
  const netns = await scope.create();
  const config = join(dir, `${name}.yaml`);
  await writeFile(
    config,
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailSwapOn: false\npodLogsDir: ${join(dir, `${name}-logs`)}\nvolumePluginDir: ${join(dir, `${name}-volume-plugins`)}\n`,
  );
  // fakeNodeFlags without its host opt-out: this kubelet's iptables are the namespace's.
  const flags = fakeNodeFlags({
    nodeName: name,
    rootDir: join(dir, `${name}-root`),
    endpoint: fake.endpoint,
    port: await freePort(),
  }).filter((flag) => flag !== NO_HOST_IPTABLES);
  const child = netns.spawn(node, [cli, '--config', config, ...flags, ...extraFlags], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await waitFor(`${name} to start`, async () => stderr.includes('"kubelet started"') || exited());
  return { netns, stderr: () => stderr, exited };
}

let atDefault: Started;
let turnedOff: Started;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-iptables-${process.pid}-`));
  fake = await FakeRuntime.start();
  atDefault = await startInNetns('iptables-default', []);
  turnedOff = await startInNetns('iptables-off', ['--make-iptables-util-chains=false']);
});

afterAll(async () => {
  for (const child of children) await killChild(child);
  await scope.cleanup();
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A table of `command`'s output in the namespace, without comments and counters. */
async function savedTable(netns: Netns, command: string, table: string): Promise<string[]> {
  const result = await netns.exec(command, ['-t', table]);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]$/, '[0:0]'));
}

describe('nodeagent-kubelet with makeIPTablesUtilChains at its default', () => {
  it("logs upstream's lines for both families", () => {
    const stderr = atDefault.stderr();
    expect(atDefault.exited(), stderr).toBe(false);
    expect(stderr).toMatch(/kubelet\] "Initialized iptables rules\." protocol="IPv4"/);
    expect(stderr).toMatch(/kubelet\] "Initialized iptables rules\." protocol="IPv6"/);
    expect(stderr).not.toContain('KubeletConfiguration field makeIPTablesUtilChains');
  });

  it("writes the chains into its namespace's iptables", async () => {
    const { netns } = atDefault;
    expect(await savedTable(netns, 'iptables-save', 'filter')).toEqual([
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':KUBE-FIREWALL - [0:0]',
      ':KUBE-KUBELET-CANARY - [0:0]',
      '-A INPUT -j KUBE-FIREWALL',
      '-A OUTPUT -j KUBE-FIREWALL',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      'COMMIT',
    ]);
    expect(await savedTable(netns, 'iptables-save', 'mangle')).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(await savedTable(netns, 'ip6tables-save', 'mangle')).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(await savedTable(netns, 'ip6tables-save', 'filter')).not.toContain(':KUBE-FIREWALL - [0:0]');
  });
});

describe('nodeagent-kubelet with --make-iptables-util-chains=false', () => {
  it('writes no chain and logs none of the iptables lines', async () => {
    const stderr = turnedOff.stderr();
    expect(turnedOff.exited(), stderr).toBe(false);
    expect(stderr).not.toMatch(/iptables rules|KUBE-IPTABLES-HINT/);
    for (const command of ['iptables-save', 'ip6tables-save']) {
      for (const table of ['mangle', 'nat', 'filter']) {
        expect((await savedTable(turnedOff.netns, command, table)).join('\n')).not.toContain('KUBE-');
      }
    }
  });
});
