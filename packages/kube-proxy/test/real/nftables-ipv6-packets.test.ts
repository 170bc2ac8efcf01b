import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesProxier, nftLocalDetector } from '../../src/nftables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { nodeNftables } from './node-nftables';
import { createPacketTopology, type PacketTopology } from './packet-topology';
import { udpClient, udpServer } from './udp-scripts';

const UDP6_SERVER = udpServer('udp6');
const UDP6_CLIENT = udpClient('udp6', { timeoutMs: 1000 });

// Dual-stack nftables mode: one proxier per family, each owning the `kube-proxy` table of its
// family (`ip` / `ip6`) in the node namespace; IPv6 traffic goes through the ip6 table's maps.

let topo: PacketTopology;
let cluster: ProxyCluster;
let proxiers: NftablesProxier[];

beforeAll(async () => {
  topo = await createPacketTopology(2, { ipv6: true });
  proxiers = (['IPv4', 'IPv6'] as const).map(
    (family) =>
      new NftablesProxier({
        family,
        nodeName: 'node-a',
        nftables: nodeNftables(family === 'IPv6' ? 'ip6' : 'ip', topo.node),
        backend: { localDetector: nftLocalDetector(undefined) },
        minSyncPeriodMs: 50,
        syncPeriodMs: 2000,
      }),
  );
  for (const b of topo.backends) {
    const child = b.netns.spawn(process.execPath, ['-e', UDP6_SERVER, b.name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  }
  cluster = await startProxyCluster('node-a', proxiers);
}, 60_000);

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers, topo });
});

describe('dual-stack nftables packets (in namespaces)', { timeout: 120_000 }, () => {
  it('serves a dual-stack ClusterIP and IPv6 NodePort, and follows an IPv6 endpoint change', async () => {
    cluster.putService(
      service('dual6', {
        type: 'NodePort',
        clusterIP: '10.96.0.130',
        clusterIPs: ['10.96.0.130', 'fd00:10:96::130'],
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'RequireDualStack',
        ports: [{ name: 'http', port: 80, nodePort: 30090 }],
      }),
    );
    cluster.putSlice(slice('dual6', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], { name: 'dual6-v4' }));
    cluster.putSlice(
      slice('dual6', [{ ip: topo.backends[1]!.ip6, node: 'node-b' }], {
        name: 'dual6-v6',
        addressType: 'IPv6',
      }),
    );
    const ok = (b: string) => b.startsWith('backend-');
    expect(await eventually(() => topo.get('http://10.96.0.130:80/'), ok, 15_000)).toBe('backend-0');
    expect(await eventually(() => topo.get('http://[fd00:10:96::130]:80/'), ok, 15_000)).toBe('backend-1');
    expect(await eventually(() => topo.get(`http://[${topo.nodeIP6}]:30090/`), ok, 15_000)).toBe('backend-1');

    // Moving the IPv6 endpoint is an element change in the ip6 table only.
    const v6 = proxiers[1]!;
    const syncsBefore = v6.history.length;
    cluster.putSlice(
      slice('dual6', [{ ip: topo.backends[0]!.ip6, node: 'node-b' }], {
        name: 'dual6-v6',
        addressType: 'IPv6',
      }),
    );
    expect(
      await eventually(
        () => topo.get('http://[fd00:10:96::130]:80/'),
        (b) => b === 'backend-0',
        15_000,
      ),
    ).toBe('backend-0');
    // A sync's result is recorded after the kernel has it (and after the health-check servers
    // are updated), so traffic can move before the history shows the sync: wait for it.
    await eventually(
      async () => v6.history.length,
      (n) => n > syncsBefore,
      5_000,
    );
    expect(v6.history.filter((h) => !h.ok)).toEqual([]);
    // Periodic syncs may follow the move, so look at every sync since it, not only the last.
    expect(v6.history.slice(syncsBefore).map((h) => h.kind)).toContain('partial');
    expect(v6.history.slice(syncsBefore).map((h) => h.kind)).not.toContain('full');
  });

  it('serves an IPv6 UDP ClusterIP over both backends', async () => {
    cluster.putService(
      service('dns6', {
        clusterIP: 'fd00:10:96::153',
        clusterIPs: ['fd00:10:96::153'],
        ipFamilies: ['IPv6'],
        ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
      }),
    );
    cluster.putSlice(
      slice(
        'dns6',
        topo.backends.map((b) => ({ ip: b.ip6, node: 'node-b' })),
        { addressType: 'IPv6', ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] },
      ),
    );
    const ask = async () =>
      (await topo.client.exec(process.execPath, ['-e', UDP6_CLIENT, 'fd00:10:96::153', '53'])).stdout.trim();
    await eventually(ask, (b) => b.startsWith('backend-'), 15_000);
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) seen.add(await ask());
    expect([...seen].sort()).toEqual(['backend-0', 'backend-1']);
  });

  it('refuses IPv6 connections to a Service without endpoints', async () => {
    cluster.putService(
      service('empty6', {
        clusterIP: 'fd00:10:96::131',
        clusterIPs: ['fd00:10:96::131'],
        ipFamilies: ['IPv6'],
      }),
    );
    expect(
      await eventually(
        () => topo.get('http://[fd00:10:96::131]:80/'),
        (b) => b === 'refused',
        15_000,
      ),
    ).toBe('refused');
  });
});
