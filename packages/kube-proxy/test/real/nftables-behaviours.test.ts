import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesProxier, nftLocalDetector } from '../../src/nftables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { nodeNftables } from './node-nftables';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// The nftables mode's behaviours upstream's nftables proxier has that nftables-packets.test.ts
// does not already prove with packets: LoadBalancer source ranges, masquerading (off-cluster
// ClusterIP and eTP=Cluster external traffic SNATed, eTP=Local keeping the client's address),
// REJECT for NodePorts without endpoints and for unknown ClusterIP ports, and no NodePorts on
// 127.0.0.1 (upstream's nftables mode has none).

// Runs in a backend namespace: answers each HTTP request with the address it came from.
const ECHO_SOURCE = `
require('node:http').createServer((req, res) => { res.setHeader('Connection', 'close'); res.end(req.socket.remoteAddress); })
  .listen(8081, '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

const NODE = 'node-a';
const CLIENT_IP = '10.250.1.2';
let topo: PacketTopology;
let cluster: ProxyCluster;
let proxier: NftablesProxier;
/** The node's address on backend 0's link: what a masqueraded packet comes from. */
let nodeOnBackendLink: string;

const echoPorts = [{ name: 'http', port: 8081, protocol: 'TCP' }];

beforeAll(async () => {
  topo = await createPacketTopology(1);
  nodeOnBackendLink = topo.backends[0]!.ip.replace(/\.2$/, '.1');
  const b = topo.backends[0]!;
  const child = b.netns.spawn(process.execPath, ['-e', ECHO_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  proxier = new NftablesProxier({
    family: 'IPv4',
    nodeName: NODE,
    nftables: nodeNftables('ip', topo.node),
    // Pods are 10.244.0.0/16: the client (10.250.1.2) is off-cluster.
    backend: { localDetector: nftLocalDetector({ cidr: '10.244.0.0/16', ipv6: false }), nodeIP: topo.nodeIP },
    minSyncPeriodMs: 50,
    syncPeriodMs: 2000,
  });
  cluster = await startProxyCluster(NODE, [proxier]);
}, 60_000);

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers: [proxier], topo });
});

describe('nftables mode behaviours upstream has (in namespaces)', { timeout: 120_000 }, () => {
  it('LoadBalancer source ranges: the allowed client reaches the VIP, others are dropped', async () => {
    const lb = (ranges: string[]) =>
      service(
        'lb',
        {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.120',
          loadBalancerSourceRanges: ranges,
          ports: [{ name: 'http', port: 80, nodePort: 30120, protocol: 'TCP' }],
        },
        { loadBalancer: { ingress: [{ ip: '192.0.2.50' }] } },
      );
    cluster.putService(lb([`${CLIENT_IP}/32`]));
    cluster.putSlice(slice('lb', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], { ports: echoPorts }));
    const allowed = await eventually(
      () => topo.get('http://192.0.2.50:80/'),
      (r) => r === nodeOnBackendLink,
    );
    expect(allowed).toBe(nodeOnBackendLink);
    cluster.putService(lb(['203.0.113.0/24']));
    // Dropped, not refused: the firewall chain drops what its ranges do not allow.
    expect(
      await eventually(
        () => topo.get('http://192.0.2.50:80/'),
        (r) => r === 'timeout',
        20_000,
      ),
    ).toBe('timeout');
    // The NodePort of the same Service is not subject to the ranges (as upstream).
    expect(await topo.get(`http://${topo.nodeIP}:30120/`)).toBe(nodeOnBackendLink);
  });

  it('masquerades off-cluster ClusterIP traffic and eTP=Cluster NodePorts; eTP=Local keeps the client address', async () => {
    cluster.putService(
      service('masq', {
        type: 'NodePort',
        clusterIP: '10.96.0.121',
        ports: [{ name: 'http', port: 80, nodePort: 30121, protocol: 'TCP' }],
      }),
    );
    cluster.putSlice(slice('masq', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], { ports: echoPorts }));
    expect(
      await eventually(
        () => topo.get('http://10.96.0.121:80/'),
        (r) => r === nodeOnBackendLink,
      ),
    ).toBe(nodeOnBackendLink);
    expect(await topo.get(`http://${topo.nodeIP}:30121/`)).toBe(nodeOnBackendLink);

    cluster.putService(
      service('keep', {
        type: 'NodePort',
        clusterIP: '10.96.0.122',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, nodePort: 30122, protocol: 'TCP' }],
      }),
    );
    cluster.putSlice(slice('keep', [{ ip: topo.backends[0]!.ip, node: NODE }], { ports: echoPorts }));
    expect(
      await eventually(
        () => topo.get(`http://${topo.nodeIP}:30122/`),
        (r) => r === CLIENT_IP,
      ),
    ).toBe(CLIENT_IP);
  });

  it('rejects NodePorts without endpoints and unknown ports of a ClusterIP', async () => {
    cluster.putService(
      service('none', {
        type: 'NodePort',
        clusterIP: '10.96.0.123',
        ports: [{ name: 'http', port: 80, nodePort: 30123, protocol: 'TCP' }],
      }),
    );
    expect(
      await eventually(
        () => topo.get(`http://${topo.nodeIP}:30123/`),
        (r) => r === 'refused',
      ),
    ).toBe('refused');
    // 10.96.0.121 serves port 80 only (previous test): port 81 is refused, not left to time out.
    // Asked again while it is not: curl's 2 s limit can pass on a loaded machine before curl
    // itself runs, but a port left to time out never answers 'refused'.
    expect(
      await eventually(
        () => topo.get('http://10.96.0.121:81/'),
        (r) => r === 'refused',
      ),
    ).toBe('refused');
  });

  it('serves no NodePorts on 127.0.0.1, as upstream nftables mode', async () => {
    const onNode = (url: string) =>
      topo.node.exec('curl', ['-sS', '--max-time', '3', url], { allowFailure: true });
    const viaNodeIP = await onNode(`http://${topo.nodeIP}:30121/`);
    expect(viaNodeIP.stdout.trim(), viaNodeIP.stderr).toBe(nodeOnBackendLink);
    const viaLocalhost = await onNode('http://127.0.0.1:30121/');
    expect(viaLocalhost.exitCode).not.toBe(0);
    expect(viaLocalhost.stdout).not.toContain(nodeOnBackendLink);
  });
});
