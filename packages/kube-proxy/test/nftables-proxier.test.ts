import { FakeNftables } from '@nodeagent/netfilter/testing';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics, snapshotFromObjects } from '../src/index';
import { buildNftablesRuleset, NftablesProxier, type ProxierNftables } from '../src/nftables/index';
import { service, slice } from './fixtures';
import { fakeNftables, fakeNftablesProxier } from './proxier-modes';

const web = service('web', { clusterIP: '10.96.0.10' });
const webSlice = (...ips: string[]) =>
  slice(
    'web',
    ips.map((ip) => ({ ip, node: 'node-b' })),
  );

function newProxier(nftables: ProxierNftables) {
  const p = new NftablesProxier({ family: 'IPv4', nodeName: 'node-a', nftables });
  p.onServiceAdd(web);
  p.onEndpointSliceAdd(webSlice('10.244.1.1', '10.244.1.2'));
  p.onServicesSynced();
  p.onEndpointSlicesSynced();
  return p;
}

describe('NftablesProxier', () => {
  it('replaces the table first, then applies endpoint changes as element diffs', async () => {
    const f = fakeNftables();
    const p = newProxier(f.nftables);
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(f.scripts[0]).toContain('delete table ip kube-proxy');

    p.onEndpointSliceUpdate(webSlice('10.244.1.1', '10.244.1.2'), webSlice('10.244.1.1', '10.244.1.3'));
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    const diff = f.scripts[1]!;
    expect(diff).not.toContain('table');
    expect(
      diff
        .split('\n')
        .filter(Boolean)
        .every((l) => / element ip kube-proxy /.test(l)),
    ).toBe(true);
    expect(diff).toContain('10.96.0.10 . tcp . 80 . 1 : 10.244.1.3 . 8080');

    // What the kernel holds equals a fresh full build of the same objects.
    const fresh = new FakeNftables('ip', 'kube-proxy');
    await fresh.run(
      buildNftablesRuleset(
        snapshotFromObjects({
          family: 'IPv4',
          nodeName: 'node-a',
          services: [web],
          endpointSlices: [webSlice('10.244.1.1', '10.244.1.3')],
        }),
      ).transaction,
    );
    expect(f.kernel.dump()).toBe(fresh.dump());

    // Nothing changed: no nft run at all.
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    expect(f.scripts).toHaveLength(2);
  });

  it('after a failed apply the next sync replaces the whole table', async () => {
    const f = fakeNftables();
    const p = newProxier(f.nftables);
    await p.syncProxyRules();
    f.failNextWrites = 1;
    p.onEndpointSliceUpdate(webSlice('10.244.1.1', '10.244.1.2'), webSlice('10.244.1.1'));
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: false });
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(f.scripts.at(-1)).toContain('delete table ip kube-proxy');
    expect(f.kernel.dump()).toContain('goto cluster-endpoints-1');
    expect(f.kernel.dump()).not.toContain('cluster-endpoints-2');
    await p.stop();
  });

  it('labels the sync-failure counter and the no-local-endpoints gauges by ip_family, as upstream v1.36', async () => {
    const f = fakeNftables();
    const metrics = new KubeProxyMetrics();
    const local = service('local', { clusterIP: '10.96.0.11', internalTrafficPolicy: 'Local' });
    const { proxier: p } = fakeNftablesProxier({ metrics }, f);
    p.onServiceAdd(local);
    p.onEndpointSliceAdd(slice('local', [{ ip: '10.244.1.1', node: 'node-b' }]));
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    expect(await p.syncProxyRules()).toMatchObject({ ok: true });
    f.failNextWrites = 1;
    p.onServiceAdd(web);
    p.onEndpointSliceAdd(webSlice('10.244.1.3'));
    expect(await p.syncProxyRules()).toMatchObject({ ok: false });
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeproxy_sync_proxy_rules_nftables_sync_failures_total{ip_family="IPv4"} 1');
    expect(text).toContain(
      'kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="internal",ip_family="IPv4"} 1',
    );
    await p.stop();
  });

  it('keeps large scripts only as their length; a full sync runs the pre-rendered script, a diff the transaction', async () => {
    const f = fakeNftables();
    const { proxier: p } = fakeNftablesProxier({}, f);
    for (let i = 0; i < 400; i++) {
      p.onServiceAdd(service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }));
      p.onEndpointSliceAdd(slice(`s${i}`, [{ ip: `10.244.${i >> 8}.${i & 255}`, node: 'node-b' }]));
    }
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(p.lastScriptBytes).toBe(f.scripts[0]!.length);
    expect(p.lastScriptBytes).toBeGreaterThan(64 << 10);
    expect(p.lastScript).toBe('');
    p.onEndpointSliceUpdate(
      slice('s7', [{ ip: '10.244.0.7', node: 'node-b' }]),
      slice('s7', [{ ip: '10.244.9.9', node: 'node-b' }]),
    );
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    expect(f.scripts).toHaveLength(2);
    expect(p.lastScript).toBe(f.scripts[1]);
    expect(p.lastScript).toContain('10.244.9.9');
    expect(p.lastScriptBytes).toBe(f.scripts[1]!.length);
  });

  it('without runScript a full sync runs the full transaction, to the same table', async () => {
    const f = fakeNftables();
    const { runScript: _script, ...plain } = f.nftables;
    const p = newProxier(plain);
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    // The run went through the transaction (rendered by run), not through runScript.
    expect(f.scripts).toHaveLength(1);
    const viaScript = fakeNftables();
    const q = newProxier(viaScript.nftables);
    await q.syncProxyRules();
    expect(f.kernel.dump()).toBe(viaScript.kernel.dump());
    expect(f.kernel.dump()).toContain('goto cluster-endpoints-2');
  });

  it('with runTable a full sync hands over the table (no script rendered), to the same table; diffs still run', async () => {
    const f = fakeNftables();
    const tables: number[] = [];
    const p = newProxier({
      ...f.nftables,
      // As NetlinkNftablesClient: the table's structure plus its elements from their text.
      async runTable(table) {
        const tx = table.fullStructure();
        table.forEachElementText((container, key, value, comment) =>
          tx.add({
            kind: 'element',
            container,
            key: key.split(' . '),
            ...(value ? { value: value.split(' . ') } : {}),
            ...(comment !== undefined ? { comment } : {}),
          }),
        );
        tables.push(tx.size);
        await f.kernel.run(tx);
      },
    });
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(tables).toHaveLength(1);
    expect(f.scripts).toHaveLength(0);
    expect(p.lastScriptBytes).toBe(0);
    const viaScript = fakeNftables();
    await newProxier(viaScript.nftables).syncProxyRules();
    expect(f.kernel.dump()).toBe(viaScript.kernel.dump());
    p.onEndpointSliceUpdate(webSlice('10.244.1.1', '10.244.1.2'), webSlice('10.244.1.1', '10.244.9.9'));
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'partial', ok: true });
    expect(tables).toHaveLength(1);
    // The diff's script is rendered only when asked for, and is the one that ran.
    expect(p.lastScript).toBe(f.scripts[0]);
    expect(p.lastScript).toContain('10.244.9.9');
  });

  it('opens its interface on start (prepare), before the first sync; a failed prepare leaves the sync to run', async () => {
    const f = fakeNftables();
    const events: string[] = [];
    const p = new NftablesProxier({
      family: 'IPv4',
      nodeName: 'node-a',
      nftables: {
        ...f.nftables,
        prepare: async () => {
          events.push('prepare');
          throw new Error('socket refused');
        },
        runScript: async (script) => {
          events.push('sync');
          await f.nftables.runScript?.(script);
        },
      },
    });
    p.onServiceAdd(web);
    p.onEndpointSliceAdd(webSlice('10.244.1.1'));
    p.start();
    expect(events).toEqual(['prepare']);
    await p.stop();
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(events).toEqual(['prepare', 'sync']);
    expect(f.kernel.dump()).toContain('10.244.1.1');
  });

  it('refuses an NftablesInterface of another family or table, naming the field', () => {
    const f = fakeNftables();
    expect(() => new NftablesProxier({ family: 'IPv6', nodeName: 'n', nftables: f.nftables })).toThrow(
      /nftables\.family: invalid value .*ip.*: must be ip6/,
    );
    expect(
      () =>
        new NftablesProxier({
          family: 'IPv4',
          nodeName: 'n',
          nftables: { ...f.nftables, table: 'other' },
        }),
    ).toThrow(/nftables\.table: invalid value .*other.*: must be kube-proxy/);
  });
});
