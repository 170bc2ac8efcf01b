import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeProxyMetrics, ProxierHealth } from '../../src/index';
import {
  cleanupIptables,
  endpointChainName,
  execIptables,
  explainIptablesService,
  IPTABLES_JUMP_RULES,
  IptablesProxier,
  renderRule,
} from '../../src/iptables/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster, stopProxyCluster } from './cluster-fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';

// A real proxier (informers → iptables-restore) programming a "node" namespace, with real
// TCP connections from a client namespace to backend namespaces.

let topo: PacketTopology;
let cluster: ProxyCluster;
let proxier: IptablesProxier;
const NODE = 'node-a';
/** The proxier's log lines, by message (the canary test reads them). */
const logged: string[] = [];

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
    logger: {
      debug: (_obj, msg) => logged.push(msg ?? ''),
      info() {},
      warn: (_obj, msg) => logged.push(msg ?? ''),
      error() {},
    },
  });
  cluster = await startProxyCluster(NODE, [proxier]);
}, 60_000);

afterAll(async () => {
  await stopProxyCluster({ cluster, proxiers: [proxier], topo });
});

describe('iptables mode packets (in namespaces)', { timeout: 120_000 }, () => {
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
    const counts = await sample('http://10.96.0.100:80/', 30);
    expect([...counts.keys()].sort()).toEqual(['backend-0', 'backend-1']);
  });

  it('NodePort reaches the service through the node address', async () => {
    cluster.putService(
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      }),
    );
    cluster.putSlice(slice('np', [{ ip: topo.backends[0]!.ip, node: 'node-b' }]));
    const body = await eventually(
      () => topo.get(`http://${topo.nodeIP}:30080/`),
      (b) => b.startsWith('backend-'),
    );
    expect(body).toBe('backend-0');
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
    const counts = await sample('http://10.96.0.102:80/', 12);
    expect(counts.size).toBe(1);
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
    const counts = await sample(`http://${topo.nodeIP}:30081/`, 12);
    expect([...counts.keys()]).toEqual(['backend-1']);
  });

  it('a Service without endpoints refuses connections', async () => {
    cluster.putService(service('empty', { clusterIP: '10.96.0.104' }));
    const body = await eventually(
      () => topo.get('http://10.96.0.104:80/'),
      (b) => b === 'refused',
    );
    expect(body).toBe('refused');
  });

  it('removing an endpoint stops traffic to it', async () => {
    cluster.putSlice(slice('web', [{ ip: topo.backends[1]!.ip, node: 'node-b' }]));
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

  it('partial syncs leave our chains exactly as a full sync writes them, each jump rule once', async () => {
    // Someone else's rule in a built-in chain we also jump from: no sync may touch it.
    await topo.node.exec('iptables', [
      '-w',
      '-t',
      'nat',
      '-A',
      'PREROUTING',
      '-p',
      'udp',
      '--dport',
      '9',
      '-j',
      'RETURN',
    ]);
    const save = async () => (await topo.node.exec('iptables-save', [])).stdout;
    const ours = async () =>
      (await save())
        .split('\n')
        .filter((l) => l.startsWith(':KUBE-') || l.startsWith('-A KUBE-'))
        .sort();
    await proxier.whenIdle();
    const afterPartials = await ours();
    expect(afterPartials.some((l) => l.includes('DNAT'))).toBe(true);
    const fulls = () => proxier.history.filter((h) => h.kind === 'full' && h.ok).length;
    for (let round = 0; round < 2; round++) {
      const before = fulls();
      proxier.forceFullSync();
      await eventually(
        async () => fulls(),
        (n) => n > before,
      );
      await proxier.whenIdle();
    }
    expect(await ours()).toEqual(afterPartials);
    const text = await save();
    for (const j of IPTABLES_JUMP_RULES) {
      const line = renderRule(['-A', j.chain, ...j.args]);
      expect(
        text.split('\n').filter((l) => l === line),
        line,
      ).toHaveLength(1);
    }
    expect(text).toContain('-A PREROUTING -p udp -m udp --dport 9 -j RETURN');
  });

  it('large cluster mode: over 1000 endpoints SEP rules lose their comments, traffic and explain still work, and back', async () => {
    const save = async () => (await topo.node.exec('iptables-save', [])).stdout;
    const ip = topo.backends[1]!.ip;
    const sep = endpointChainName('default/web:http', 'TCP', `${ip}:8080`);
    const filler = (name: string, n: number, base: number) =>
      slice(
        'filler',
        Array.from({ length: n }, (_, k) => ({
          ip: `10.250.${(base + k) >> 8}.${(base + k) & 255}`,
          node: 'node-b',
        })),
        { name },
      );
    cluster.putService(service('filler', { clusterIP: '10.96.0.200' }));
    cluster.putSlice(filler('filler-a', 500, 0));
    cluster.putSlice(filler('filler-b', 500, 512));
    const large = await eventually(save, (t) => t.includes(`-A ${sep} -s ${ip}/32 -j KUBE-MARK-MASQ`));
    expect(large.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('--comment'))).toEqual(
      [],
    );
    // Entry rules keep theirs.
    expect(large).toContain('"default/web:http cluster IP"');
    expect(proxier.lastSync?.largeClusterMode).toBe(true);
    expect([...(await sample('http://10.96.0.100:80/', 5)).keys()]).toEqual(['backend-1']);
    const e = explainIptablesService(large, 'default/web');
    expect(e.chains.flatMap((c) => c.endpoints.map((x) => x.destination))).toEqual([`${ip}:8080`]);

    // Below the threshold again: every endpoint rule gets its comment back in a partial sync.
    cluster.putSlice(filler('filler-b', 1, 512));
    const small = await eventually(save, (t) =>
      t.includes(`-A ${sep} -m comment --comment default/web:http -s ${ip}/32 -j KUBE-MARK-MASQ`),
    );
    const sepRules = (t: string) => t.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-'));
    expect(sepRules(small).length).toBeGreaterThan(4);
    expect(sepRules(small).filter((l) => !l.includes('--comment'))).toEqual([]);
    expect(proxier.lastSync).toMatchObject({ kind: 'partial', largeClusterMode: false });
    expect([...(await sample('http://10.96.0.100:80/', 5)).keys()]).toEqual(['backend-1']);
  });

  it('restores rules flushed behind its back (canary lost)', async () => {
    const ipt = execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] });
    const deletedBefore = logged.filter((m) => m === 'IPTables canary deleted').length;
    const fullSyncsBefore = proxier.history.filter((h) => h.kind === 'full' && h.ok).length;
    await cleanupIptables(ipt);
    // Whether the canary is gone right now is a race with the proxier's canary monitor (every
    // syncPeriod, 2 s), which may already have seen it go and restored it on a busy machine. What
    // must hold: the monitor noticed, a full sync ran, and traffic and all three canaries are
    // back. Cleanup restores one table at a time; the monitor waits for every canary to go first.
    const state = await eventually(
      async () => ({
        body: await topo.get('http://10.96.0.100:80/'),
        canaries: await Promise.all(
          (['mangle', 'nat', 'filter'] as const).map((t) => ipt.chainExists(t, 'KUBE-PROXY-CANARY')),
        ),
        noticed: logged.filter((m) => m === 'IPTables canary deleted').length - deletedBefore,
        fullSyncs: proxier.history.filter((h) => h.kind === 'full' && h.ok).length - fullSyncsBefore,
      }),
      (s) => s.body === 'backend-1' && s.canaries.every(Boolean) && s.noticed > 0 && s.fullSyncs > 0,
      // Generous: under CI's CPU burners a full sync plus the next check can take tens of seconds.
      90_000,
    );
    expect(state.body).toBe('backend-1');
    expect(state.canaries).toEqual([true, true, true]);
    expect(state.noticed).toBeGreaterThan(0);
    expect(state.fullSyncs).toBeGreaterThan(0);
  });

  it('--cleanup removes every chain and jump rule it owns and leaves other rules and KUBE-FIREWALL alone', async () => {
    await proxier.stop();
    const ipt = execIptables({ family: 'IPv4', commandPrefix: ['ip', 'netns', 'exec', topo.node.name] });
    await topo.node.exec('iptables', ['-w', '-t', 'nat', '-N', 'OTHER-CHAIN']);
    await topo.node.exec('iptables', ['-w', '-t', 'nat', '-A', 'PREROUTING', '-j', 'OTHER-CHAIN']);
    await cleanupIptables(ipt);
    const save = (await topo.node.exec('iptables-save', [])).stdout;
    const kubeLines = save.split('\n').filter((l) => l.includes('KUBE-'));
    // As upstream, the CVE-2020-8558 protection outlives a cleanup (route_localnet stays 1).
    expect(kubeLines.filter((l) => !l.includes('KUBE-FIREWALL'))).toEqual([]);
    expect(kubeLines).toContain('-A INPUT -j KUBE-FIREWALL');
    expect(kubeLines).toContain('-A OUTPUT -j KUBE-FIREWALL');
    expect(save).toContain('-A PREROUTING -j OTHER-CHAIN');
  });
});
