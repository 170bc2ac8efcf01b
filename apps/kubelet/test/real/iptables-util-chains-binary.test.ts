import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePort, killChild, NO_HOST_IPTABLES, node, waitFor } from '../binary-harness';

// The built binary with makeIPTablesUtilChains at upstream's default (true), run inside a
// throwaway network namespace so the chains land in that namespace's iptables, never the host's.

let dir: string;
let fake: FakeRuntime;
let child: ChildProcess | undefined;
const scope = new NetnsScope('kl-iptbin');
let netns: Netns;
let stderr = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-iptables-${process.pid}-`));
  fake = await FakeRuntime.start();
  netns = await scope.create();
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailSwapOn: false\npodLogsDir: ${join(dir, 'logs')}\n`,
  );
  const flags = fakeNodeFlags({
    nodeName: 'iptables-node',
    rootDir: join(dir, 'root'),
    endpoint: fake.endpoint,
    port: await freePort(),
  }).filter((flag) => flag !== NO_HOST_IPTABLES);
  child = netns.spawn(node, [cli, '--config', config, ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  await waitFor(
    'the kubelet to start',
    async () => stderr.includes('"kubelet started"') || child?.exitCode !== null,
  );
});

afterAll(async () => {
  await killChild(child);
  await scope.cleanup();
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A table of `command`'s output in the namespace, without comments and counters. */
async function savedTable(command: 'iptables-save' | 'ip6tables-save', table: string): Promise<string[]> {
  const result = await netns.exec(command, ['-t', table]);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]$/, '[0:0]'));
}

describe('nodeagent-kubelet with makeIPTablesUtilChains at its default', () => {
  it("logs upstream's lines for both families", () => {
    expect(child?.exitCode, stderr).toBeNull();
    expect(stderr).toMatch(/kubelet\] "Initialized iptables rules\." protocol="IPv4"/);
    expect(stderr).toMatch(/kubelet\] "Initialized iptables rules\." protocol="IPv6"/);
    expect(stderr).not.toContain('KubeletConfiguration field makeIPTablesUtilChains');
  });

  it("writes the chains into its namespace's iptables", async () => {
    expect(await savedTable('iptables-save', 'filter')).toEqual([
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
    expect(await savedTable('iptables-save', 'mangle')).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(await savedTable('ip6tables-save', 'mangle')).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(await savedTable('ip6tables-save', 'filter')).not.toContain(':KUBE-FIREWALL - [0:0]');
  });
});
