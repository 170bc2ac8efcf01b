import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execIptables, IptablesProxier } from '../../src/iptables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// CVE-2020-8558: with route_localnet=1 (what localhost NodePorts need) a neighbour on the node's
// network could reach services bound to 127.0.0.1. A client namespace sends UDP datagrams
// addressed to 127.0.0.1 straight onto the veth (raw Ethernet frames to the node's MAC: its own
// stack would never route 127.0.0.1 out); a listener on 127.0.0.1 in the node namespace reports
// what reaches it. Before the proxier's first sync they do (the control); after it
// KUBE-FIREWALL drops them, while a NodePort on 127.0.0.1 still reaches its backend.

const NODE = 'node-a';
const LISTEN_PORT = 9797;
const NODE_PORT = 30097;

// Runs in the client namespace: argv = interface, destination MAC, source IP, source port, count.
const SEND_FRAMES = `
import socket, struct, sys
ifname, dst_mac, src_ip, sport, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src_mac = s.getsockname()[4]
payload = b'from-the-neighbour'
udp = struct.pack('!HHHH', sport, ${LISTEN_PORT}, 8 + len(payload), 0) + payload
hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                  socket.inet_aton(src_ip), socket.inet_aton('127.0.0.1'))
hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
frame = bytes.fromhex(dst_mac.replace(':', '')) + src_mac + b'\\x08\\x00' + hdr + udp
for _ in range(count):
    s.send(frame)
`;

// Runs in the node namespace: prints each datagram received on 127.0.0.1.
const LISTENER = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => process.stdout.write(r.address + ' ' + m.toString() + '\\n'));
s.bind(${LISTEN_PORT}, '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

let topo: PacketTopology;
let cluster: ProxyCluster;
let proxier: IptablesProxier;
let listener: ChildProcess;
let received = '';
let clientIf = '';
let nodeMac = '';

async function interfaceWith(ns: PacketTopology['node'], ip: string): Promise<{ name: string; mac: string }> {
  const addrs = JSON.parse((await ns.exec('ip', ['-j', 'addr', 'show'])).stdout) as {
    ifname: string;
    address: string;
    addr_info: { local: string }[];
  }[];
  const link = addrs.find((l) => l.addr_info.some((a) => a.local === ip));
  if (!link) throw new Error(`no interface with ${ip}`);
  return { name: link.ifname, mac: link.address };
}

/** Frames from the client with source `sport`, addressed to 127.0.0.1 on the node. */
async function sendFromNeighbour(sport: number, count: number): Promise<void> {
  await topo.client.exec('python3', [
    '-c',
    SEND_FRAMES,
    clientIf,
    nodeMac,
    '10.250.1.2',
    String(sport),
    String(count),
  ]);
}

/** Packets the KUBE-FIREWALL DROP rule has counted in the node namespace. */
async function localnetDrops(): Promise<number> {
  const r = await topo.node.exec('iptables', ['-t', 'filter', '-L', 'KUBE-FIREWALL', '-v', '-x', '-n'], {
    allowFailure: true,
  });
  const line = r.stdout.split('\n').find((l) => l.includes('block incoming localnet connections'));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

beforeAll(async () => {
  topo = await createPacketTopology(1);
  // What kube-proxy's node setup does for localhost NodePorts (the proxier itself sets no sysctls).
  await topo.node.exec('sysctl', ['-q', '-w', 'net.ipv4.conf.all.route_localnet=1']);
  clientIf = (await interfaceWith(topo.client, '10.250.1.2')).name;
  nodeMac = (await interfaceWith(topo.node, topo.nodeIP)).mac;
  listener = topo.node.spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    listener.stdout?.on('data', (b: Buffer) => {
      received += b.toString();
      if (received.includes('ready')) resolve();
    });
    listener.on('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: NODE,
    executor: execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] }),
    minSyncPeriodMs: 50,
    syncPeriodMs: 2000,
    backend: { nodeIP: topo.nodeIP, localhostNodePorts: true },
  });
}, 60_000);

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers: [proxier], topo });
});

describe('CVE-2020-8558: KUBE-FIREWALL with route_localnet=1 (in namespaces)', { timeout: 120_000 }, () => {
  it('without kube-proxy rules a neighbour reaches a 127.0.0.1 listener (the control)', async () => {
    await sendFromNeighbour(40001, 3);
    const got = await eventually(
      async () => received,
      (r) => r.includes('10.250.1.2 from-the-neighbour'),
    );
    expect(got).toContain('10.250.1.2 from-the-neighbour');
  });

  it('after a sync KUBE-FIREWALL drops them, and a NodePort on 127.0.0.1 still works', async () => {
    cluster = await startProxyCluster(NODE, [proxier]);
    cluster.putService(
      service('local-np', {
        type: 'NodePort',
        clusterIP: '10.96.0.97',
        ports: [{ name: 'http', port: 80, nodePort: NODE_PORT, protocol: 'TCP', targetPort: 8080 as never }],
      }),
    );
    cluster.putSlice(slice('local-np', [{ ip: topo.backends[0]!.ip, node: 'node-b' }]));
    const save = await eventually(
      async () => (await topo.node.exec('iptables-save', [])).stdout,
      (s) => s.includes(`--dport ${NODE_PORT}`) && s.includes('-A INPUT -j KUBE-FIREWALL'),
    );
    expect(save).toContain(
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
    expect(save).toContain('-A OUTPUT -j KUBE-FIREWALL');

    received = '';
    const dropsBefore = await localnetDrops();
    await sendFromNeighbour(40002, 3);
    // The rule counted all three (so they arrived and were judged) and none reached the listener.
    expect(await eventually(localnetDrops, (n) => n >= dropsBefore + 3)).toBeGreaterThanOrEqual(
      dropsBefore + 3,
    );
    expect(received).toBe('');

    // The node itself still reaches the NodePort on 127.0.0.1: DNATed away from 127/8, masqueraded.
    const r = await topo.node.exec('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${NODE_PORT}/`], {
      allowFailure: true,
    });
    expect(r.stdout.trim(), r.stderr).toBe(topo.backends[0]!.name);
    // And so does a local client of the 127.0.0.1 listener itself.
    await topo.node.exec('python3', [
      '-c',
      `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'from-the-node', ('127.0.0.1', ${LISTEN_PORT}))`,
    ]);
    expect(
      await eventually(
        async () => received,
        (s) => s.includes('from-the-node'),
      ),
    ).toContain('127.0.0.1 from-the-node');
    expect(received).not.toContain('from-the-neighbour');
  });
});
