import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics, ProxierHealth } from '../src/index';
import { fakeKernel } from '../src/ipvs/fake-ipvs-kernel';
import { IpvsProxier } from '../src/ipvs/index';
import { service, slice } from './fixtures';
import { ipvsTable, rs, vs } from './ipvs-table-view';

const flush = () => new Promise<void>((r) => setImmediate(r));

function setup() {
  const clock = new FakeClock(1_700_000_000_000);
  const kernel = fakeKernel();
  const metrics = new KubeProxyMetrics();
  const health = new ProxierHealth(60_000, clock);
  const proxier = new IpvsProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    kernel,
    clock,
    metrics,
    health,
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    backend: { gracefulCheckIntervalMs: 5000 },
  });
  const tick = async (ms = 0) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await flush();
    await proxier.whenIdle();
  };
  return { clock, kernel, metrics, health, proxier, tick };
}

describe('IpvsProxier', () => {
  it('syncs once initialized, serving NodePorts on the node addresses outside kube-ipvs0', async () => {
    const { kernel, proxier, tick, health } = setup();
    proxier.start();
    proxier.onServiceAdd(
      service('np', {
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
    );
    proxier.onEndpointSliceAdd(slice('np', [{ ip: '10.244.1.1' }]));
    proxier.onServicesSynced();
    await tick(5000);
    expect(proxier.history).toHaveLength(0);
    proxier.onEndpointSlicesSynced();
    await tick(0);
    expect(proxier.history[0]).toMatchObject({ kind: 'full', ok: true });
    expect(Object.keys(await ipvsTable(kernel.ipvs)).sort()).toEqual([
      'TCP/10.96.0.10:80',
      'TCP/192.168.0.10:30080',
    ]);
    expect(health.status().healthy).toBe(true);
    await proxier.stop();
  });

  it('applies an endpoint change as a partial sync that drains the removed backend, then deletes it', async () => {
    const { kernel, proxier, tick } = setup();
    proxier.start();
    proxier.onServiceAdd(service('web'));
    const two = slice('web', [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }]);
    proxier.onEndpointSliceAdd(two);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await tick(0);
    kernel.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 1, 0);
    proxier.onEndpointSliceUpdate(two, slice('web', [{ ip: '10.244.1.1' }]));
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: true });
    expect((await ipvsTable(kernel.ipvs))['TCP/10.96.0.10:80']).toEqual([
      '10.244.1.1:8080 w1',
      '10.244.1.2:8080 w0',
    ]);
    kernel.ipvs.setConnections(vs('TCP/10.96.0.10:80'), rs('10.244.1.2:8080'), 0, 0);
    // The periodic drain check triggers a sync that deletes it.
    await tick(5000);
    expect((await ipvsTable(kernel.ipvs))['TCP/10.96.0.10:80']).toEqual(['10.244.1.1:8080 w1']);
    await proxier.stop();
  });

  it('retries with a full sync after a failure', async () => {
    const { kernel, proxier, tick, metrics } = setup();
    proxier.start();
    proxier.onServiceAdd(service('web'));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await tick(0);
    kernel.ipvs.failAfter(0);
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: false });
    await tick(30_000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'full', ok: true });
    expect((await ipvsTable(kernel.ipvs))['TCP/10.96.0.10:80']).toEqual(['10.244.1.1:8080 w1']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kubeproxy_sync_proxy_rules_duration_seconds_count\{?[^\n]*\}? [1-9]/);
    await proxier.stop();
  });

  it('plans every Service again after a sync that failed before planning, so no change is lost', async () => {
    const { kernel, proxier, tick } = setup();
    proxier.start();
    proxier.onServiceAdd(service('web'));
    proxier.onServiceAdd(service('api', { clusterIP: '10.96.0.11' }));
    const web = slice('web', [{ ip: '10.244.1.1' }]);
    proxier.onEndpointSliceAdd(web);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await tick(0);
    // The node's addresses cannot be read: the sync fails after taking its snapshot, which
    // holds web's change; the applier's state stands, so the retry is a partial sync.
    const localAddresses = kernel.link.localAddresses.bind(kernel.link);
    kernel.link.localAddresses = async () => {
      kernel.link.localAddresses = localAddresses;
      throw new Error('rtnetlink: dump interrupted');
    };
    proxier.onEndpointSliceUpdate(web, slice('web', [{ ip: '10.244.1.2' }]));
    await tick(1000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: false });
    // Only api changes now: a plan of just the snapshot's changed Services would miss web's.
    proxier.onEndpointSliceAdd(slice('api', [{ ip: '10.244.2.1' }]));
    await tick(30_000);
    expect(proxier.history.at(-1)).toMatchObject({ kind: 'partial', ok: true });
    const table = await ipvsTable(kernel.ipvs);
    expect(table['TCP/10.96.0.10:80']).toEqual(['10.244.1.2:8080 w1']);
    expect(table['TCP/10.96.0.11:80']).toEqual(['10.244.2.1:8080 w1']);
    await proxier.stop();
  });
});
