import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execIptables, IptablesProxier } from '../../src/iptables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// Dual-stack: one iptables proxier per family behind the same informers; IPv6 traffic goes
// through ip6tables rules in the node namespace.

let topo: PacketTopology;
let cluster: ProxyCluster;
let proxiers: IptablesProxier[];

beforeAll(async () => {
  topo = await createPacketTopology(2, { ipv6: true });
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
  cluster = await startProxyCluster('node-a', proxiers);
}, 60_000);

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers, topo });
});

describe('dual-stack iptables packets (in namespaces)', { timeout: 120_000 }, () => {
  it('serves a dual-stack ClusterIP over IPv4 and IPv6', async () => {
    const svc = service('dual', {
      clusterIP: '10.96.0.120',
      clusterIPs: ['10.96.0.120', 'fd00:10:96::120'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    cluster.api.registry.create(cluster.api.resource('v1', 'services'), 'default', svc);
    const sliceType = cluster.api.resource('discovery.k8s.io/v1', 'endpointslices');
    cluster.api.registry.create(
      sliceType,
      'default',
      slice('dual', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], { name: 'dual-v4' }),
    );
    cluster.api.registry.create(
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
        15_000,
      ),
    ).toBe('backend-0');
    const got = await eventually(
      () => topo.get('http://[fd00:10:96::120]:80/'),
      (b) => b.startsWith('backend-'),
      15_000,
    );
    expect(got).toBe('backend-1');
  });

  it('refuses IPv6 connections to a Service without endpoints', async () => {
    const svc = service('empty6', {
      clusterIP: 'fd00:10:96::121',
      clusterIPs: ['fd00:10:96::121'],
      ipFamilies: ['IPv6'],
    });
    cluster.api.registry.create(cluster.api.resource('v1', 'services'), 'default', svc);
    expect(
      await eventually(
        () => topo.get('http://[fd00:10:96::121]:80/'),
        (b) => b === 'refused',
        15_000,
      ),
    ).toBe('refused');
  });
});
