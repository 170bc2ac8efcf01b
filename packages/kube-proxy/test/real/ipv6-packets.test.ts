import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterWatch,
  execIptables,
  IptablesProxier,
  multiFamilyHandler,
  watchCluster,
} from '../../src/index';
import { service, slice } from '../fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// Dual-stack: one iptables proxier per family behind the same informers; IPv6 traffic goes
// through ip6tables rules in the node namespace.

let topo: PacketTopology;
let api: ApiServer;
let proxiers: IptablesProxier[];
let watch: ClusterWatch;

async function eventually(
  fn: () => Promise<string>,
  ok: (v: string) => boolean,
  timeoutMs = 15_000,
): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

beforeAll(async () => {
  topo = await createPacketTopology(2, { ipv6: true });
  api = await startApiServer();
  proxiers = (['IPv4', 'IPv6'] as const).map(
    (family) =>
      new IptablesProxier({
        family,
        nodeName: 'node-a',
        executor: execIptables({ family, commandPrefix: ['ip', 'netns', 'exec', topo.node.name] }),
        minSyncPeriodMs: 50,
        syncPeriodMs: 2000,
      }),
  );
  for (const p of proxiers) p.start();
  watch = watchCluster({
    kubeConfig: api.kubeConfig(),
    nodeName: 'node-a',
    handler: multiFamilyHandler(proxiers),
  });
}, 60_000);

afterAll(async () => {
  await watch?.stop();
  for (const p of proxiers ?? []) await p.stop();
  await api?.close();
  await topo?.cleanup();
});

describe('dual-stack iptables packets (in namespaces)', { timeout: 40_000 }, () => {
  it('serves a dual-stack ClusterIP over IPv4 and IPv6', async () => {
    const svc = service('dual', {
      clusterIP: '10.96.0.120',
      clusterIPs: ['10.96.0.120', 'fd00:10:96::120'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    api.registry.create(api.resource('v1', 'services'), 'default', svc);
    const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
    api.registry.create(
      sliceType,
      'default',
      slice('dual', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], { name: 'dual-v4' }),
    );
    api.registry.create(
      sliceType,
      'default',
      slice('dual', [{ ip: topo.backends[1]!.ip6, node: 'node-b' }], {
        name: 'dual-v6',
        addressType: 'IPv6',
      }),
    );
    expect(
      await eventually(
        () => topo.get('http://10.96.0.120:80/'),
        (b) => b.startsWith('backend-'),
      ),
    ).toBe('backend-0');
    const got = await eventually(
      () => topo.get('http://[fd00:10:96::120]:80/'),
      (b) => b.startsWith('backend-'),
    );
    expect(got).toBe('backend-1');
  });

  it('refuses IPv6 connections to a Service without endpoints', async () => {
    const svc = service('empty6', {
      clusterIP: 'fd00:10:96::121',
      clusterIPs: ['fd00:10:96::121'],
      ipFamilies: ['IPv6'],
    });
    api.registry.create(api.resource('v1', 'services'), 'default', svc);
    expect(
      await eventually(
        () => topo.get('http://[fd00:10:96::121]:80/'),
        (b) => b === 'refused',
      ),
    ).toBe('refused');
  });
});
