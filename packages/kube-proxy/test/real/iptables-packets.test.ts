import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterWatch,
  cleanupIptables,
  execIptables,
  explainIptablesService,
  IptablesProxier,
  KubeProxyMetrics,
  multiFamilyHandler,
  ProxierHealth,
  watchCluster,
} from '../../src/index';
import { service, slice } from '../fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// A real proxier (informers → iptables-restore) programming a "node" namespace, with real
// TCP connections from a client namespace to backend namespaces.

let topo: PacketTopology;
let api: ApiServer;
let proxier: IptablesProxier;
let watch: ClusterWatch;
const NODE = 'node-a';

const svcType = () => api.resource('v1', 'services');
const sliceType = () => api.resource('discovery.k8s.io/v1', 'endpointslices');

function putService(svc: V1Service): void {
  const existing = api.registry.find(svcType(), 'default', svc.metadata!.name!);
  if (existing)
    api.registry.update(svcType(), 'default', svc.metadata!.name!, {
      ...svc,
      metadata: { ...svc.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  else api.registry.create(svcType(), 'default', svc);
}

function putSlice(s: V1EndpointSlice): void {
  const existing = api.registry.find(sliceType(), 'default', s.metadata!.name!);
  if (existing)
    api.registry.update(sliceType(), 'default', s.metadata!.name!, {
      ...s,
      metadata: { ...s.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  else api.registry.create(sliceType(), 'default', s);
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

async function sample(url: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const body = await topo.get(url);
    counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  topo = await createPacketTopology(2);
  api = await startApiServer();
  const executor = execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] });
  proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: NODE,
    executor,
    minSyncPeriodMs: 50,
    syncPeriodMs: 2000,
    metrics: new KubeProxyMetrics(),
    health: new ProxierHealth(4000),
    backend: { nodeIP: topo.nodeIP },
  });
  proxier.start();
  watch = watchCluster({
    kubeConfig: api.kubeConfig(),
    nodeName: NODE,
    handler: multiFamilyHandler([proxier]),
  });
}, 60_000);

afterAll(async () => {
  await watch?.stop();
  await proxier?.stop();
  await api?.close();
  await topo?.cleanup();
});

describe('iptables mode packets (in namespaces)', { timeout: 30_000 }, () => {
  it('ClusterIP spreads connections over all backends', async () => {
    putService(service('web', { clusterIP: '10.96.0.100' }));
    putSlice(
      slice(
        'web',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await eventually(
      () => topo.get('http://10.96.0.100:80/'),
      (b) => b.startsWith('backend-'),
    );
    const counts = await sample('http://10.96.0.100:80/', 30);
    expect([...counts.keys()].sort()).toEqual(['backend-0', 'backend-1']);
  });

  it('NodePort reaches the service through the node address', async () => {
    putService(
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      }),
    );
    putSlice(slice('np', [{ ip: topo.backends[0]!.ip, node: 'node-b' }]));
    const body = await eventually(
      () => topo.get(`http://${topo.nodeIP}:30080/`),
      (b) => b.startsWith('backend-'),
    );
    expect(body).toBe('backend-0');
  });

  it('sessionAffinity ClientIP sticks to one backend', async () => {
    putService(service('sticky', { clusterIP: '10.96.0.102', sessionAffinity: 'ClientIP' }));
    putSlice(
      slice(
        'sticky',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await eventually(
      () => topo.get('http://10.96.0.102:80/'),
      (b) => b.startsWith('backend-'),
    );
    const counts = await sample('http://10.96.0.102:80/', 12);
    expect(counts.size).toBe(1);
  });

  it('externalTrafficPolicy=Local sends NodePort traffic only to local backends', async () => {
    putService(
      service('local', {
        type: 'NodePort',
        clusterIP: '10.96.0.103',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, nodePort: 30081 }],
      }),
    );
    putSlice(
      slice('local', [
        { ip: topo.backends[0]!.ip, node: 'node-b' },
        { ip: topo.backends[1]!.ip, node: NODE },
      ]),
    );
    await eventually(
      () => topo.get(`http://${topo.nodeIP}:30081/`),
      (b) => b.startsWith('backend-'),
    );
    const counts = await sample(`http://${topo.nodeIP}:30081/`, 12);
    expect([...counts.keys()]).toEqual(['backend-1']);
  });

  it('a Service without endpoints refuses connections', async () => {
    putService(service('empty', { clusterIP: '10.96.0.104' }));
    const body = await eventually(
      () => topo.get('http://10.96.0.104:80/'),
      (b) => b === 'refused',
    );
    expect(body).toBe('refused');
  });

  it('removing an endpoint stops traffic to it', async () => {
    putSlice(slice('web', [{ ip: topo.backends[1]!.ip, node: 'node-b' }]));
    await eventually(
      async () => [...(await sample('http://10.96.0.100:80/', 6)).keys()].join(','),
      (k) => k === 'backend-1',
    );
    const counts = await sample('http://10.96.0.100:80/', 20);
    expect([...counts.keys()]).toEqual(['backend-1']);
  });

  it('explain reads the live kernel state of one Service', async () => {
    const save = (await topo.node.exec('iptables-save', [])).stdout;
    const e = explainIptablesService(save, 'default/web');
    const dests = e.chains.flatMap((c) => c.endpoints.map((x) => x.destination));
    expect(dests).toEqual([`${topo.backends[1]!.ip}:8080`]);
    expect(e.entryRules.some((r) => r.rule.includes('10.96.0.100'))).toBe(true);
  });

  it('restores rules flushed behind its back (canary lost)', async () => {
    const ipt = execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] });
    await cleanupIptables(ipt);
    expect(await ipt.chainExists('mangle', 'KUBE-PROXY-CANARY')).toBe(false);
    const body = await eventually(
      () => topo.get('http://10.96.0.100:80/'),
      (b) => b === 'backend-1',
      15_000,
    );
    expect(body).toBe('backend-1');
    expect(await ipt.chainExists('mangle', 'KUBE-PROXY-CANARY')).toBe(true);
  });

  it('--cleanup removes every chain and jump rule it owns and leaves other rules alone', async () => {
    await proxier.stop();
    const ipt = execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] });
    await topo.node.exec('iptables', ['-w', '-t', 'nat', '-N', 'OTHER-CHAIN']);
    await topo.node.exec('iptables', ['-w', '-t', 'nat', '-A', 'PREROUTING', '-j', 'OTHER-CHAIN']);
    await cleanupIptables(ipt);
    const save = (await topo.node.exec('iptables-save', [])).stdout;
    expect(save).not.toMatch(/KUBE-/);
    expect(save).toContain('-A PREROUTING -j OTHER-CHAIN');
  });
});
