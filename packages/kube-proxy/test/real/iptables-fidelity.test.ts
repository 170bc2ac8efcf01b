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

// The fidelity fixture (../shared/fidelity/kube-proxy-v1.32, never edited): a real
// kube-apiserver's stored objects and what upstream kube-proxy v1.32.13 wrote for them. The
// objects go into the in-process API server, the real daemon (apps/kube-proxy's cli through tsx)
// runs in a fresh namespace with the fixture's flags and node address, and its iptables-save,
// normalized as the fixture's README says (counters zeroed, `#` lines dropped), must equal
// upstream's line for line.

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const fixtureDir = join(repoRoot, '..', 'shared', 'fidelity', 'kube-proxy-v1.32');
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
  dir = mkdtempSync(join(tmpdir(), `na-kp-fidelity-${process.pid}-`));
  api = await startApiServer();
  api.registry.create(api.resource('v1', 'namespaces'), undefined, { metadata: { name: 'ho' } });
  const docs = parseAllDocuments(readFileSync(join(fixtureDir, 'objects.yaml'), 'utf8'));
  for (const doc of docs) {
    const obj = doc.toJS() as { kind: string; metadata: { namespace?: string } };
    const [apiVersion, plural] = PLURALS[obj.kind] ?? [];
    if (!apiVersion || !plural) throw new Error(`fixture kind ${obj.kind} not handled`);
    api.registry.create(api.resource(apiVersion, plural), obj.metadata.namespace, obj);
  }
  node = await createNetns({ purpose: 'kpfidelity' });
  peer = await createNetns({ purpose: 'kpfidelpeer' });
  // The node's address 10.77.0.1/24 on a veth, as when upstream's run was recorded.
  await createVethPair(
    { netns: node, addresses: ['10.77.0.1/24'] },
    { netns: peer, addresses: ['10.77.0.2/24'] },
  );
  // Jumps as earlier versions of ours wrote them (comment before conntrack): the first full
  // sync must replace them, or the listing would hold both forms.
  for (const [chain, target, comment] of [
    ['OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'],
    ['INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall'],
  ] as const) {
    await node.exec('iptables', ['-w', '-N', target]);
    await node.exec('iptables', [
      '-w',
      '-I',
      chain,
      '-m',
      'comment',
      '--comment',
      comment,
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-j',
      target,
    ]);
  }
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

describe('iptables mode against upstream v1.32 (fidelity fixture, real kernel)', { timeout: 180_000 }, () => {
  it("writes exactly upstream's iptables-save for the fixture's objects", async () => {
    const want = normalizeSave(readFileSync(join(fixtureDir, 'iptables-save.upstream.txt'), 'utf8'));
    const wanted = orderServiceBlocks(want).join('\n');
    // One sync writes the tables and then the jumps from built-in chains table by table: wait
    // until the listing settles on the expected text (or the time is up), then compare.
    const got = await eventually(
      async () => normalizeSave((await node.exec('iptables-save', [])).stdout),
      (lines) => orderServiceBlocks(lines).join('\n') === wanted,
      // The daemon starts through tsx and syncs once the informers have synced: slow on a busy machine.
      120_000,
    );
    // Upstream writes each service port's rules in Go map order (random on every sync), so in
    // the chains many Services share only the order of those blocks may differ; each block,
    // every other line and every other order must be upstream's exactly.
    expect(orderServiceBlocks(got).join('\n'), log).toBe(wanted);
    // Ours are in service port name order, deterministic (partial syncs compare chain text).
    expect(got).toEqual(orderServiceBlocks(got));
  });

  it('created the nfacct counters, and publishes them as metrics read from the kernel', async () => {
    const metrics = (await node.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics'])).stdout;
    expect(metrics).toMatch(/^kubeproxy_iptables_ct_state_invalid_dropped_packets_total 0$/m);
    expect(metrics).toMatch(/^kubeproxy_iptables_localhost_nodeports_accepted_packets_total 0$/m);
    // A packet to a localhost NodePort is counted (no endpoint answers: its SYN is enough).
    await node.exec('curl', ['-sS', '--max-time', '1', 'http://127.0.0.1:30081/'], { allowFailure: true });
    const after = await eventually(
      async () => (await node.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics'])).stdout,
      (m) => /^kubeproxy_iptables_localhost_nodeports_accepted_packets_total [1-9]/m.test(m),
    );
    expect(after).toMatch(/^kubeproxy_iptables_localhost_nodeports_accepted_packets_total [1-9]/m);
  });
});
