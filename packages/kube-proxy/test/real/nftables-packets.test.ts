import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  explainNftablesService,
  NftablesProxier,
  NftSession,
  NftSessionError,
  nftLocalDetector,
} from '../../src/nftables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { nodeNftables } from './node-nftables';
import { createPacketTopology, type PacketTopology } from './packet-topology';
import { udpClient, udpServer } from './udp-scripts';

// Answers each datagram with its namespace's backend name.
const UDP_SERVER = udpServer('udp4');
// Sends one datagram from a fresh source port and prints the reply.
const UDP_CLIENT = udpClient('udp4', { timeoutMs: 1000 });

// nftables mode end to end: informers → nft -f in a "node" namespace → real connections.

// SCTP without the kernel's sctp module (this kernel has none): raw IPPROTO_SCTP sockets.
// `send` writes an INIT chunk and waits for an INIT ACK; `serve` answers every INIT with an INIT
// ACK. Conntrack checks the CRC32c and the verification tags, so both are real.
const SCTP_RAW = `
import select, socket, struct, sys

def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF

def packet(sport, dport, vtag, chunk_type, itag):
    chunk = struct.pack('!BBHIIHHI', chunk_type, 0, 20, itag, 65535, 1, 1, 1)
    p = struct.pack('!HHII', sport, dport, vtag, 0) + chunk
    return p[:8] + struct.pack('<I', crc32c(p)) + p[12:]

def parse(data):
    ihl = (data[0] & 15) * 4
    src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
    sport, dport, vtag = struct.unpack('!HHI', data[ihl:ihl + 8])
    ctype = data[ihl + 12]
    itag = struct.unpack('!I', data[ihl + 16:ihl + 20])[0]
    return src, dst, sport, dport, vtag, ctype, itag

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_SCTP)
if sys.argv[1] == 'serve':
    tag = int(sys.argv[2])
    print('ready', flush=True)
    while True:
        src, dst, sport, dport, vtag, ctype, itag = parse(s.recv(2048))
        if ctype == 1:
            # The reply's initiate tag tells the client which backend saw which port.
            s.sendto(packet(dport, sport, itag, 2, tag * 100000 + dport), (src, 0))
else:
    # One INIT per source port (a new association, so a new conntrack entry each), in turn.
    ip, port, first, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    for sport in range(first, first + count):
        s.sendto(packet(sport, port, 0, 1, 0x1234), (ip, 0))
        while True:
            r, _, _ = select.select([s], [], [], 1.0)
            if not r:
                print('timeout', flush=True)
                break
            src, dst, rsport, rdport, vtag, ctype, itag = parse(s.recv(2048))
            if ctype == 2 and rdport == sport:
                print(f'{src}:{rsport} backend-{itag // 100000} port {itag % 100000}', flush=True)
                break
`;

/**
 * `nft --debug=netlink` rule bytecode per chain: the implicit protocol matches nft adds (e.g.
 * `[ cmp eq reg 1 0x00000006 ]` after `meta load l4proto`) only show up here, not in listings.
 */
function bytecodeByChain(debug: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of debug.split('\n')) {
    const head = /^ip6? kube-proxy ([^@\s]\S*) \d+$/.exec(line);
    if (head) {
      current = out.get(head[1]!) ?? [];
      out.set(head[1]!, current);
    } else if (current && /^\s+\[ /.test(line)) current.push(line.trim());
    else current = undefined;
  }
  return out;
}

let topo: PacketTopology;
let cluster: ProxyCluster;
let proxier: NftablesProxier;
const NODE = 'node-a';

beforeAll(async () => {
  topo = await createPacketTopology(2);
  proxier = new NftablesProxier({
    family: 'IPv4',
    nodeName: NODE,
    nftables: nodeNftables('ip', topo.node),
    backend: { localDetector: nftLocalDetector(undefined), nodeIP: topo.nodeIP },
    minSyncPeriodMs: 50,
    syncPeriodMs: 2000,
  });
  for (const b of topo.backends) {
    const child = b.netns.spawn(process.execPath, ['-e', UDP_SERVER, b.name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  }
  for (const [i, b] of topo.backends.entries()) {
    const child = b.netns.spawn('python3', ['-c', SCTP_RAW, 'serve', String(i)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  }
  cluster = await startProxyCluster(NODE, [proxier]);
}, 60_000);

/**
 * `count` SCTP INITs from source ports `firstPort`...: per INIT "<reply source>:<port> backend-<i>
 * port <port it saw>" or "timeout".
 */
async function askSctp(ip: string, port: number, firstPort: number, count = 1): Promise<string[]> {
  const args = ['-c', SCTP_RAW, 'send', ip, String(port), String(firstPort), String(count)];
  return (await topo.client.exec('python3', args)).stdout.trim().split('\n');
}

async function askUdp(ip: string, port: number): Promise<string> {
  return (await topo.client.exec(process.execPath, ['-e', UDP_CLIENT, ip, String(port)])).stdout.trim();
}

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers: [proxier], topo });
});

describe('nftables mode packets (in namespaces)', { timeout: 120_000 }, () => {
  it('golden scripts pass nft --check', async () => {
    for (const [file, family] of [
      ['mixed.nft', 'ip'],
      ['ipv6-nodeport.nft', 'ip6'],
    ] as const) {
      const script = readFileSync(join(import.meta.dirname, '..', 'golden', file), 'utf8');
      const r = await topo.client.exec('nft', ['-c', '-f', '-'], { input: script, allowFailure: true });
      expect(r.stderr, `${file} (${family})`).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });

  it('ClusterIP spreads connections over all backends', async () => {
    cluster.putService(service('web', { clusterIP: '10.96.0.100' }));
    cluster.putSlice(
      slice(
        'web',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await eventually(
      () => topo.get('http://10.96.0.100:80/'),
      (b) => b.startsWith('backend-'),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await topo.get('http://10.96.0.100:80/'));
    expect([...seen].sort()).toEqual(['backend-0', 'backend-1']);
  });

  it('NodePort reaches the service through the node address', async () => {
    cluster.putService(
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      }),
    );
    cluster.putSlice(slice('np', [{ ip: topo.backends[1]!.ip, node: 'node-b' }]));
    expect(
      await eventually(
        () => topo.get(`http://${topo.nodeIP}:30080/`),
        (b) => b.startsWith('backend-'),
      ),
    ).toBe('backend-1');
  });

  it('UDP ClusterIP spreads datagrams over all backends', async () => {
    const ports = [{ name: 'dns', port: 5353, protocol: 'UDP' }];
    cluster.putService(
      service('dns', { clusterIP: '10.96.0.110', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    );
    cluster.putSlice(
      slice(
        'dns',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
        { ports },
      ),
    );
    await eventually(
      () => askUdp('10.96.0.110', 53),
      (b) => b.startsWith('backend-'),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) seen.add(await askUdp('10.96.0.110', 53));
    expect([...seen].sort()).toEqual(['backend-0', 'backend-1']);
  });

  it('UDP NodePort reaches its backend through the node address', async () => {
    cluster.putService(
      service('dns-np', {
        type: 'NodePort',
        clusterIP: '10.96.0.111',
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
      }),
    );
    cluster.putSlice(
      slice('dns-np', [{ ip: topo.backends[1]!.ip, node: 'node-b' }], {
        ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
      }),
    );
    expect(
      await eventually(
        () => askUdp(topo.nodeIP, 30053),
        (b) => b.startsWith('backend-'),
      ),
    ).toBe('backend-1');
  });

  it('SCTP ClusterIP spreads associations over all backends, DNATed to the target port', async () => {
    cluster.putService(
      service('diameter', {
        clusterIP: '10.96.0.120',
        ports: [{ name: 'diameter', port: 3868, protocol: 'SCTP' }],
      }),
    );
    cluster.putSlice(
      slice(
        'diameter',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
        { ports: [{ name: 'diameter', port: 3869, protocol: 'SCTP' }] },
      ),
    );
    let sourcePort = 41000;
    await eventually(
      async () => (await askSctp('10.96.0.120', 3868, sourcePort++))[0]!,
      (r) => r.includes('backend-'),
    );
    const seen = new Set(await askSctp('10.96.0.120', 3868, sourcePort, 16));
    // The reply comes back from the ClusterIP (reverse NAT); each backend saw the target port.
    expect([...seen].sort()).toEqual([
      '10.96.0.120:3868 backend-0 port 3869',
      '10.96.0.120:3868 backend-1 port 3869',
    ]);
  });

  it('SCTP NodePort reaches its backend through the node address', async () => {
    cluster.putService(
      service('diameter-np', {
        type: 'NodePort',
        clusterIP: '10.96.0.121',
        ports: [{ name: 'diameter', port: 3868, protocol: 'SCTP', nodePort: 30868 }],
      }),
    );
    cluster.putSlice(
      slice('diameter-np', [{ ip: topo.backends[0]!.ip, node: 'node-b' }], {
        ports: [{ name: 'diameter', port: 3869, protocol: 'SCTP' }],
      }),
    );
    let sourcePort = 42000;
    expect(
      await eventually(
        async () => (await askSctp(topo.nodeIP, 30868, sourcePort++))[0]!,
        (r) => r.includes('backend-'),
      ),
    ).toBe(`${topo.nodeIP}:30868 backend-0 port 3869`);
  });

  it('each endpoint-selecting chain matches only its own protocol in the kernel', async () => {
    const debug = (await topo.node.exec('nft', ['--debug=netlink', 'list', 'table', 'ip', 'kube-proxy']))
      .stdout;
    const selects = [...bytecodeByChain(debug)].filter(([, code]) =>
      code.some((c) => /lookup reg \d+ set \S*-endpoints /.test(c)),
    );
    const names = selects.map(([chain]) => chain);
    // Written by the tests above, each in a later transaction than the map it uses.
    expect(names).toEqual(
      expect.arrayContaining([
        'cluster-endpoints-2',
        'udp-cluster-endpoints-2',
        'udp-nodeport-cluster-endpoints-1',
      ]),
    );
    const protoNumber = { tcp: 6, udp: 17, sctp: 132 } as const;
    for (const [chain, code] of selects) {
      const proto = (/^(udp|sctp)-/.exec(chain)?.[1] ?? 'tcp') as keyof typeof protoNumber;
      const cmp = code.filter((c) => /^\[ cmp eq reg 1 0x000000[0-9a-f]{2} \]$/.test(c));
      expect(cmp, chain).toEqual([`[ cmp eq reg 1 0x${protoNumber[proto].toString(16).padStart(8, '0')} ]`]);
    }
  });

  it('sessionAffinity ClientIP sticks to one backend', async () => {
    cluster.putService(service('sticky', { clusterIP: '10.96.0.102', sessionAffinity: 'ClientIP' }));
    cluster.putSlice(
      slice(
        'sticky',
        topo.backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await eventually(
      () => topo.get('http://10.96.0.102:80/'),
      (b) => b.startsWith('backend-'),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(await topo.get('http://10.96.0.102:80/'));
    expect(seen.size).toBe(1);
  });

  it('externalTrafficPolicy=Local sends NodePort traffic only to local backends', async () => {
    cluster.putService(
      service('local', {
        type: 'NodePort',
        clusterIP: '10.96.0.103',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, nodePort: 30081 }],
      }),
    );
    cluster.putSlice(
      slice('local', [
        { ip: topo.backends[0]!.ip, node: 'node-b' },
        { ip: topo.backends[1]!.ip, node: NODE },
      ]),
    );
    await eventually(
      () => topo.get(`http://${topo.nodeIP}:30081/`),
      (b) => b.startsWith('backend-'),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(await topo.get(`http://${topo.nodeIP}:30081/`));
    expect([...seen]).toEqual(['backend-1']);
  });

  it('explain reads the live nftables state of one Service', async () => {
    const listing = (await topo.node.exec('nft', ['list', 'table', 'ip', 'kube-proxy'])).stdout;
    const e = explainNftablesService(listing, 'default/web');
    const dests = e.chains.flatMap((c) => c.endpoints.map((x) => x.destination)).sort();
    expect(dests).toEqual(topo.backends.map((b) => `${b.ip}:8080`).sort());
  });

  it('explain follows a UDP Service to its endpoints', async () => {
    const listing = (await topo.node.exec('nft', ['list', 'table', 'ip', 'kube-proxy'])).stdout;
    const e = explainNftablesService(listing, 'default/dns');
    expect(e.entryRules.map((r) => r.target)).toEqual(['goto udp-cluster-endpoints-2']);
    const dests = e.chains.flatMap((c) => c.endpoints.map((x) => x.destination)).sort();
    expect(dests).toEqual(topo.backends.map((b) => `${b.ip}:5353`).sort());
  });

  it('applies later changes as small diffs', () => {
    // Every sync applied: a diff nft rejects would show up here (and be repaired by a full sync).
    expect(proxier.history.filter((h) => !h.ok).map((h) => String(h.error))).toEqual([]);
    expect(proxier.history.filter((h) => h.kind === 'full')).toHaveLength(1);
    const partial = proxier.history.filter((h) => h.kind === 'partial' && h.ok);
    expect(partial.length).toBeGreaterThan(0);
    expect(proxier.lastScript).not.toContain('delete table');
  });

  it('hairpin: a backend reaching itself through its Service is masqueraded', async () => {
    cluster.putService(service('hairpin', { clusterIP: '10.96.0.105' }));
    cluster.putSlice(slice('hairpin', [{ ip: topo.backends[0]!.ip, node: 'node-b' }]));
    await eventually(
      () => topo.get('http://10.96.0.105:80/'),
      (b) => b === 'backend-0',
    );
    // Without masquerading the reply would go straight back inside the backend and never match.
    const r = await topo.backends[0]!.netns.exec(
      'curl',
      ['-sS', '--max-time', '2', 'http://10.96.0.105:80/'],
      {
        allowFailure: true,
      },
    );
    expect(r.stdout).toBe('backend-0');
  });

  it('a Service without endpoints refuses connections, and works once it has one', async () => {
    cluster.putService(service('empty', { clusterIP: '10.96.0.104' }));
    expect(
      await eventually(
        () => topo.get('http://10.96.0.104:80/'),
        (b) => b === 'refused',
      ),
    ).toBe('refused');
    cluster.putSlice(slice('empty', [{ ip: topo.backends[0]!.ip, node: 'node-b' }]));
    expect(
      await eventually(
        () => topo.get('http://10.96.0.104:80/'),
        (b) => b === 'backend-0',
      ),
    ).toBe('backend-0');
  });

  it('nft -i session: each transaction is atomic, errors are reported, later ones still apply', async () => {
    // A table of its own in the node namespace, so the proxier's table is untouched.
    const session = new NftSession(['ip', 'netns', 'exec', topo.node.name]);
    const list = async () =>
      (await topo.node.exec('nft', ['list', 'set', 'ip', 'na-session', 's'], { allowFailure: true })).stdout;
    try {
      await session.apply('add table ip na-session\nadd set ip na-session s { type ipv4_addr ; }');
      await session.apply(
        'add element ip na-session s { 10.1.0.1 }\nadd element ip na-session s { 10.1.0.2 }',
      );
      expect(await list()).toMatch(/10\.1\.0\.1, 10\.1\.0\.2/);
      // The delete of a missing element fails the batch: the add before it must not stay either.
      const err = await session
        .apply('add element ip na-session s { 10.1.0.3 }\ndelete element ip na-session s { 10.1.0.9 }')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NftSessionError);
      expect((err as NftSessionError).stderr).toContain('delete element ip na-session s');
      expect(await list()).not.toContain('10.1.0.3');
      await session.apply('delete element ip na-session s { 10.1.0.1 }');
      const after = await list();
      expect(after).not.toContain('10.1.0.1');
      expect(after).toContain('10.1.0.2');
    } finally {
      await session.close();
      await topo.node.exec('nft', ['delete', 'table', 'ip', 'na-session'], { allowFailure: true });
    }
  });
});
