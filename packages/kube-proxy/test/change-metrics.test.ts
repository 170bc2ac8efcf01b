import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics } from '../src/index';
import { service, slice } from './fixtures';
import { fireRunner, iptablesMode, ipvsMode, metric, nftablesMode } from './proxier-modes';

// Upstream keeps these in its change trackers and Sync(), shared by every mode: the pending
// gauges follow each event and drop to 0 when a sync takes the changes, the totals count them,
// and last_queued_timestamp is stamped when a sync is queued (only once initialized). Alerting
// on "queued later than last synced" works in any mode only if every mode keeps them.

/** An unlabelled sample (the pending gauges and change totals have no ip_family label). */
async function plain(metrics: KubeProxyMetrics, name: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

describe.each([
  ['iptables', iptablesMode],
  ['nftables', nftablesMode],
  ['ipvs', ipvsMode],
] as const)('%s mode: the change metrics', (_mode, make) => {
  it('counts pending changes per event, stamps a queued sync once initialized, and clears them at the sync', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const metrics = new KubeProxyMetrics();
    const { proxier } = make(clock, metrics);
    proxier.start();
    try {
      const web = slice('web', [{ ip: '10.244.1.1', node: 'node-b' }]);
      proxier.onServiceAdd(service('web', { clusterIP: '10.96.0.10' }));
      proxier.onServiceAdd(service('api', { clusterIP: '10.96.0.11' }));
      proxier.onEndpointSliceAdd(web);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_service_changes_pending')).toBe(2);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending')).toBe(1);
      // Not initialized: no sync is queued yet, so nothing is stamped.
      expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds')).toBe(0);

      proxier.onServicesSynced();
      proxier.onEndpointSlicesSynced();
      await fireRunner(clock, proxier, 0);
      expect(proxier.history).toMatchObject([{ ok: true }]);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_service_changes_pending')).toBe(0);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending')).toBe(0);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_service_changes_total')).toBe(2);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_total')).toBe(1);

      // Later, one endpoint more: pending, queued at this moment, then taken by the next sync.
      await fireRunner(clock, proxier, 5_000);
      const queuedAt = clock.now();
      proxier.onEndpointSliceUpdate(
        web,
        slice('web', [
          { ip: '10.244.1.1', node: 'node-b' },
          { ip: '10.244.1.2', node: 'node-b' },
        ]),
      );
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending')).toBe(1);
      expect(await metric(metrics, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds')).toBe(
        queuedAt / 1000,
      );
      await fireRunner(clock, proxier, 1_000);
      expect(proxier.history).toHaveLength(2);
      expect(proxier.history.at(-1)).toMatchObject({ ok: true });
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending')).toBe(0);
      expect(await plain(metrics, 'kubeproxy_sync_proxy_rules_endpoint_changes_total')).toBe(2);
    } finally {
      await proxier.stop();
    }
  });
});
