import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClusterWatch,
  KubeProxyMetrics,
  multiFamilyHandler,
  type ProxyHandler,
  watchCluster,
} from '../src/index';
import { service, slice } from './fixtures';
import {
  fakeIptablesProxier,
  fireRunner,
  iptablesMode,
  ipvsMode,
  type ModeUnderTest,
  metric,
  nftablesMode,
} from './proxier-modes';
import { until } from './real/cluster-fixtures';

// Upstream never syncs before Services and EndpointSlices have both been listed (the proxiers'
// isInitialized): on a restarted node a sync from a half-listed cluster would flush the rules
// of every Service whose objects had not arrived yet. Here the API server answers every
// EndpointSlice LIST with 503 while Services list fine; every mode must then write nothing and
// count no sync, however often its runner fires, and sync once the slices are listed.

/** Records which initial-sync signals the informers have delivered. */
function syncedRecorder() {
  const seen = { services: false, endpointSlices: false };
  const noop = () => undefined;
  const handler: ProxyHandler = {
    onServiceAdd: noop,
    onServiceUpdate: noop,
    onServiceDelete: noop,
    onServicesSynced: () => {
      seen.services = true;
    },
    onEndpointSliceAdd: noop,
    onEndpointSliceUpdate: noop,
    onEndpointSliceDelete: noop,
    onEndpointSlicesSynced: () => {
      seen.endpointSlices = true;
    },
    onNode: noop,
  };
  return { seen, handler };
}

const SLICES_PATH = '/apis/discovery.k8s.io/v1/endpointslices';

let api: ApiServer | undefined;
let watch: ClusterWatch | undefined;
let running: ModeUnderTest['proxier'] | undefined;

afterEach(async () => {
  await watch?.stop();
  await running?.stop();
  await api?.close();
  api = undefined;
  watch = undefined;
  running = undefined;
});

describe.each([
  ['iptables', iptablesMode],
  ['nftables', nftablesMode],
  ['ipvs', ipvsMode],
] as const)('%s mode: no sync before Services and EndpointSlices have both synced', (_mode, make) => {
  it('writes nothing and counts no sync while the EndpointSlice list fails, then syncs once it lands', async () => {
    api = await startApiServer();
    for (let i = 0; i < 3; i++) {
      api.registry.create(
        api.resource('v1', 'services'),
        'default',
        service(`web${i}`, { clusterIP: `10.96.0.${10 + i}` }),
      );
      api.registry.create(
        api.resource('discovery.k8s.io/v1', 'endpointslices'),
        'default',
        slice(`web${i}`, [{ ip: `10.244.1.${i + 1}`, node: 'node-b' }]),
      );
    }
    // Every EndpointSlice LIST fails (503) until reset: the slow/failing list of a big cluster.
    api.faults.failNext(1_000_000, 503, {
      match: (method, path) => method === 'GET' && path === SLICES_PATH,
    });
    const clock = new FakeClock(1_700_000_000_000);
    const metrics = new KubeProxyMetrics();
    const mode = make(clock, metrics);
    running = mode.proxier;
    const recorder = syncedRecorder();
    let sliceListFailures = 0;
    mode.proxier.start();
    watch = watchCluster({
      kubeConfig: api.kubeConfig(),
      nodeName: 'node-a',
      handler: multiFamilyHandler([mode.proxier, recorder.handler]),
      onError: (err) => {
        if (/503|Service ?Unavailable/i.test(String((err as Error)?.message ?? err))) sliceListFailures++;
      },
    });
    // Services are listed (and handed to the proxier); EndpointSlices have failed at least once.
    expect(
      await until(() => recorder.seen.services && sliceListFailures > 0, {
        timeoutMs: 30_000,
        intervalMs: 20,
      }),
    ).toBe(true);
    expect(recorder.seen.endpointSlices).toBe(false);
    // Whatever the runner would do (a requested run, the periodic syncPeriod run), and a direct call:
    await fireRunner(clock, mode.proxier, 0);
    await fireRunner(clock, mode.proxier, 31_000);
    await fireRunner(clock, mode.proxier, 3_600_000);
    expect(await mode.proxier.syncProxyRules()).toBeUndefined();
    expect(mode.proxier.isInitialized()).toBe(false);
    expect(mode.writes()).toBe(0);
    expect(mode.proxier.history).toEqual([]);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(0);
    expect(await metric(metrics, 'kubeproxy_sync_full_proxy_rules_duration_seconds')).toBe(0);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toBe(0);

    // The list succeeds (the reflector retries after its backoff): now exactly one full sync.
    api.faults.reset();
    expect(await until(() => recorder.seen.endpointSlices, { timeoutMs: 30_000, intervalMs: 20 })).toBe(true);
    await fireRunner(clock, mode.proxier, 0);
    expect(mode.proxier.history).toMatchObject([{ kind: 'full', ok: true }]);
    expect(mode.writes()).toBeGreaterThan(0);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(1);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toBe(
      clock.now() / 1000,
    );
  });
});

describe('sync metrics count only syncs that wrote the rules', () => {
  it('a failed iptables-restore is no sync: no duration, no timestamp; the retry that writes is', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const metrics = new KubeProxyMetrics();
    const { proxier, ipt } = fakeIptablesProxier({ clock, metrics });
    proxier.onServiceAdd(service('web'));
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    ipt.failNextRestore = 1;
    expect(await proxier.syncProxyRules()).toMatchObject({ ok: false });
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(0);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toBe(0);
    clock.advance(1000);
    expect(await proxier.syncProxyRules()).toMatchObject({ ok: true });
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(1);
    expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toBe(
      clock.now() / 1000,
    );
  });
});
