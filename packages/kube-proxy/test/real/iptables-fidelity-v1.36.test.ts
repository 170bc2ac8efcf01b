import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiServer,
  bridgeIntoNetns,
  createNetns,
  createVethPair,
  kubeconfigYaml,
  type Netns,
  type NetnsTcpBridge,
  startApiServer,
} from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { orderServiceBlocks } from '../service-block-order';
import { eventually } from './cluster-fixtures';

// The v1.36 fidelity fixture (../shared/fidelity/kube-proxy-v1.36, never edited): a real
// kube-apiserver v1.36.3's stored objects and what upstream kube-proxy v1.36.3 wrote for them,
// for IPv4 and (its dual-stack proxier runs whenever the host has IPv6) for IPv6. The real daemon
// (apps/kube-proxy's cli through tsx) runs in a fresh namespace with the fixture's command line;
// its iptables-save and ip6tables-save, normalized as the fixture's README says (counters zeroed,
// `#` lines dropped), must equal upstream's, the per-Service blocks compared as units.

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const fixtureDir = join(repoRoot, '..', 'shared', 'fidelity', 'kube-proxy-v1.36');
const cli = join(repoRoot, 'apps', 'kube-proxy', 'src', 'cli.ts');

const PLURALS: Record<string, [string, string]> = {
  Node: ['v1', 'nodes'],
  Service: ['v1', 'services'],
  EndpointSlice: ['discovery.k8s.io/v1', 'endpointslices'],
};

/** iptables-save as the fixture holds it: counters zeroed, comment lines dropped. */
function normalizeSave(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]'));
}

let api: ApiServer;
let node: Netns;
let peer: Netns;
let dir: string;
let bridge: NetnsTcpBridge;
let daemon: ChildProcess;
let log = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-fidel136-${process.pid}-`));
  api = await startApiServer();
  api.registry.create(api.resource('v1', 'namespaces'), undefined, { metadata: { name: 'ho' } });
  const docs = parseAllDocuments(readFileSync(join(fixtureDir, 'objects.yaml'), 'utf8'));
  for (const doc of docs) {
    const obj = doc.toJS() as { kind: string; metadata: { namespace?: string } };
    const [apiVersion, plural] = PLURALS[obj.kind] ?? [];
    if (!apiVersion || !plural) throw new Error(`fixture kind ${obj.kind} not handled`);
    api.registry.create(api.resource(apiVersion, plural), obj.metadata.namespace, obj);
  }
  node = await createNetns({ purpose: 'kpfidel136' });
  peer = await createNetns({ purpose: 'kpfid136peer' });
  // The node's address 10.77.0.1/24 on a veth, as when upstream's run was recorded.
  await createVethPair(
    { netns: node, addresses: ['10.77.0.1/24'] },
    { netns: peer, addresses: ['10.77.0.2/24'] },
  );
  // The API server on the namespace's 127.0.0.1:6443.
  bridge = await bridgeIntoNetns(node, api.port);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml('http://127.0.0.1:6443'));
  // The fixture README's command line.
  daemon = node.spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@nodeagent/source',
      cli,
      '--kubeconfig',
      kubeconfig,
      '--hostname-override',
      'n1',
      '--proxy-mode',
      'iptables',
      '--cluster-cidr',
      '10.244.0.0/16',
      '--conntrack-max-per-core',
      '0',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--healthz-bind-address',
      '127.0.0.1:10256',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemon.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  daemon.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  await node?.delete();
  await peer?.delete();
  await bridge?.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('iptables mode against upstream v1.36 (fidelity fixture, real kernel)', { timeout: 180_000 }, () => {
  for (const [save, fixture] of [
    ['iptables-save', 'iptables-save.upstream.txt'],
    ['ip6tables-save', 'ip6tables-save.upstream.txt'],
  ] as const) {
    it(`writes exactly upstream's ${save} for the fixture's objects`, async () => {
      const want = normalizeSave(readFileSync(join(fixtureDir, fixture), 'utf8'));
      const wanted = orderServiceBlocks(want).join('\n');
      // One sync writes the tables and then the jumps from built-in chains table by table: wait
      // until the listing settles on the expected text (or the time is up), then compare.
      const got = await eventually(
        async () => normalizeSave((await node.exec(save, [])).stdout),
        (lines) => orderServiceBlocks(lines).join('\n') === wanted,
        // The daemon starts through tsx and syncs once the informers have synced: slow on a busy machine.
        120_000,
      );
      // Upstream's per-Service block order is Go map order (random between its runs): each
      // block, every other line and every other order must be upstream's exactly.
      expect(orderServiceBlocks(got).join('\n'), log).toBe(wanted);
    });
  }

  it('logs that it runs both families, as upstream on an IPv6-capable host', () => {
    expect(log).toContain('kube-proxy running in dual-stack mode');
    expect(log).toContain('Using iptables Proxier');
  });

  it('stopped, then --cleanup leaves what upstream v1.36 left: KUBE-FIREWALL, its rule and jumps', async () => {
    daemon.kill('SIGTERM');
    await new Promise<void>((resolve) =>
      daemon.exitCode !== null ? resolve() : daemon.once('exit', () => resolve()),
    );
    const r = await node.exec(
      process.execPath,
      ['--import', 'tsx', '--conditions=@nodeagent/source', cli, '--cleanup'],
      { allowFailure: true },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const rules = normalizeSave((await node.exec('iptables-save', [])).stdout).filter(
      (l) => l.startsWith('-A ') || (l.startsWith(':') && !/ ACCEPT \[/.test(l)),
    );
    // The fixture README's record of upstream's `kube-proxy --cleanup`: mangle and nat empty.
    expect(rules).toEqual([
      ':KUBE-FIREWALL - [0:0]',
      '-A INPUT -j KUBE-FIREWALL',
      '-A OUTPUT -j KUBE-FIREWALL',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
  });
});
