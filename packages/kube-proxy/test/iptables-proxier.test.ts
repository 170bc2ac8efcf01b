import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics, ProxierHealth } from '../src/index';
import { serviceChainNames } from '../src/iptables/index';
import { service, slice } from './fixtures';
import { fakeIptablesProxier } from './proxier-modes';

const flush = () => new Promise<void>((r) => setImmediate(r));

function setup() {
  const clock = new FakeClock(1_700_000_000_000);
  const metrics = new KubeProxyMetrics();
  const health = new ProxierHealth(60_000, clock);
  const { proxier, ipt } = fakeIptablesProxier({
    clock,
    metrics,
    health,
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
  });
  /** Lets timers due within `ms` fire and the async syncs they start finish. */
  const tick = async (ms = 0) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await flush();
    await proxier.whenIdle();
  };
  return { clock, ipt, metrics, health, proxier, tick };
}

const webChain = serviceChainNames('default/web:http', 'TCP').cluster;
const dbChain = serviceChainNames('default/db:pg', 'TCP').cluster;

describe('IptablesProxier', () => {
  it('does not sync before both Services and EndpointSlices have synced', async () => {
    const { ipt, proxier, tick } = setup();
    proxier.start();
    proxier.onServiceAdd(service('web'));
    proxier.onServicesSynced();
    await tick(5000);
    expect(ipt.restores).toHaveLength(0);
    proxier.onEndpointSlicesSynced();
    await tick(0);
    // One streamed run: the ruleset, then (first sync only) the jumps from built-in chains into it.
    expect(ipt.restores).toHaveLength(1);
    expect(ipt.streams).toHaveLength(1);
    const jumpsAt = ipt.restores[0]!.search(/^-I PREROUTING /m);
    expect(jumpsAt).toBeGreaterThan(ipt.restores[0]!.lastIndexOf(':KUBE-SERVICES - [0:0]'));
    expect(proxier.history[0]).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.userChains('mangle').includes('KUBE-PROXY-CANARY')).toBe(true);
    expect(ipt.builtinChainRules()).toContain(
      'nat PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
    // A later full sync finds the jumps in place (iptables-save): none in its payload.
    const before = ipt.restores.length;
    proxier.forceFullSync();
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.restores).toHaveLength(before + 1);
    expect(ipt.restores.at(-1)).not.toMatch(/^-I /m);
    // Upstream's twelve, then kubelet's two INPUT/OUTPUT jumps to KUBE-FIREWALL.
    expect(ipt.builtinChainRules()).toHaveLength(14);
    expect(ipt.builtinChainRules()).toContain('filter INPUT -j KUBE-FIREWALL');
    await proxier.stop();
  });

  it('writes only changed services in partial syncs, throttled by minSyncPeriod', async () => {
    const { ipt, proxier, tick, metrics } = setup();
    proxier.onServiceAdd(service('web'));
    proxier.onServiceAdd(service('db', { clusterIP: '10.96.0.11', ports: [{ name: 'pg', port: 5432 }] }));
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
    proxier.onEndpointSliceAdd(slice('db', [{ ip: '10.244.1.2' }], { ports: [{ name: 'pg', port: 5432 }] }));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    proxier.start();
    await tick(0);
    expect(ipt.restores[0]).toContain(`:${webChain} `);
    expect(ipt.restores[0]).toContain(`:${dbChain} `);

    proxier.onEndpointSliceUpdate(
      slice('web', [{ ip: '10.244.1.1' }]),
      slice('web', [{ ip: '10.244.1.1' }, { ip: '10.244.1.3' }]),
    );
    const afterFull = ipt.restores.length;
    await tick(500);
    expect(ipt.restores).toHaveLength(afterFull); // inside minSyncPeriod
    await tick(500);
    expect(ipt.restores).toHaveLength(afterFull + 1);
    const partial = ipt.restores.at(-1)!;
    expect(proxier.history[1]?.kind).toBe('partial');
    expect(partial).toContain(`:${webChain} `);
    expect(partial).not.toContain(`:${dbChain} `);
    // KUBE-SERVICES did not change (one more endpoint behind the same chain): not rewritten.
    expect(partial).not.toContain(':KUBE-SERVICES ');
    expect(partial).not.toContain('*filter');

    // A new Service changes KUBE-SERVICES: rewritten whole, still jumping to the others.
    proxier.onServiceAdd(service('api', { clusterIP: '10.96.0.12' }));
    proxier.onEndpointSliceAdd(slice('api', [{ ip: '10.244.1.4' }]));
    await tick(1000);
    expect(ipt.restores).toHaveLength(afterFull + 2);
    const added = ipt.restores.at(-1)!;
    expect(added).toContain(':KUBE-SERVICES ');
    expect(added).toContain(`-j ${dbChain}`);
    expect(added).toContain(`-j ${webChain}`);
    expect(added).not.toContain(`:${dbChain} `);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv4"} 2');
    expect(text).toContain('kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1');
    await proxier.stop();
  });

  it('after a failed restore, retries with a full sync and counts the failure', async () => {
    const { ipt, proxier, tick, metrics } = setup();
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    proxier.start();
    await tick(0);
    ipt.failNextRestore = 1;
    proxier.onServiceAdd(service('web'));
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: false });
    expect(
      await metrics.registry.getSingleMetricAsString(
        'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      ),
    ).toContain('{ip_family="IPv4"} 1');
    await tick(30_000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.restores.at(-1)).toContain(`:${webChain} `);
    expect(ipt.userChains('nat').includes(webChain)).toBe(true);
    await proxier.stop();
  });

  it('forces a full sync when node labels change, and deletes chains of removed services', async () => {
    const { ipt, proxier, tick } = setup();
    const web = service('web');
    const sl = slice('web', [{ ip: '10.244.1.1' }]);
    proxier.onServiceAdd(web);
    proxier.onEndpointSliceAdd(sl);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    proxier.start();
    await tick(0);
    proxier.onNode({ metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' } } });
    await tick(1000);
    expect(proxier.history.at(-1)?.kind).toBe('full');

    proxier.onServiceDelete(web);
    proxier.onEndpointSliceDelete(sl);
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: true });
    expect(ipt.restores.at(-1)).toContain(`-X ${webChain}`);
    expect(ipt.userChains('nat').includes(webChain)).toBe(false);
    await proxier.stop();
  });

  it('reports health: unhealthy when updates wait too long, healthy after a sync', async () => {
    const { proxier, tick, health, ipt } = setup();
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    proxier.start();
    await tick(0);
    expect(health.status().healthy).toBe(true);
    ipt.failNextRestore = 100;
    proxier.onServiceAdd(service('web'));
    await tick(61_000);
    expect(health.status().healthy).toBe(false);
    ipt.failNextRestore = 0;
    await tick(30_000);
    expect(health.status().healthy).toBe(true);
    await proxier.stop();
  });
});
