import type { Clock } from '@nodeagent/primitives';
import { Gauge, type Registry } from 'prom-client';
import type { ClaimVolumeStats } from '../volumes/csi/csi-volumes';

type StatsField = Exclude<keyof ClaimVolumeStats, 'namespace' | 'claim' | 'abnormal'>;

/** Upstream's kubelet_volume_stats_* (pkg/kubelet/metrics/collectors/volume_stats.go), ALPHA. */
const VOLUME_STATS_METRICS: readonly [name: string, help: string, field: StatsField][] = [
  ['kubelet_volume_stats_capacity_bytes', 'Capacity in bytes of the volume', 'capacityBytes'],
  ['kubelet_volume_stats_available_bytes', 'Number of available bytes in the volume', 'availableBytes'],
  ['kubelet_volume_stats_used_bytes', 'Number of used bytes in the volume', 'usedBytes'],
  ['kubelet_volume_stats_inodes', 'Maximum number of inodes in the volume', 'inodes'],
  ['kubelet_volume_stats_inodes_free', 'Number of free inodes in the volume', 'inodesFree'],
  ['kubelet_volume_stats_inodes_used', 'Number of used inodes in the volume', 'inodesUsed'],
];

/** Upstream's volume health gauge: 1 when the driver's VolumeCondition says abnormal, 0 when not. */
const HEALTH_ABNORMAL = 'kubelet_volume_stats_health_status_abnormal';

/** The metric names registered by {@link registerVolumeStatsMetrics}. */
export const volumeStatsMetricNames = [...VOLUME_STATS_METRICS.map(([name]) => name), HEALTH_ABNORMAL];

/**
 * kubelet_volume_stats_*{namespace, persistentvolumeclaim} for each claim's volume, from
 * `source` (the CSI drivers' NodeGetVolumeStats). As upstream computes volume stats once per
 * volumeStatsAggPeriod and serves the cached figures, a scrape within `periodMs` of the last
 * reading reuses it; the six gauges of one scrape share one reading.
 */
export function registerVolumeStatsMetrics(
  registry: Registry,
  source: () => Promise<ClaimVolumeStats[]>,
  clock: Clock,
  periodMs: number,
): void {
  let cached: { at: number; stats: Promise<ClaimVolumeStats[]> } | undefined;
  const reading = (): Promise<ClaimVolumeStats[]> => {
    const now = clock.now();
    if (!cached || now - cached.at >= periodMs) cached = { at: now, stats: source().catch(() => []) };
    return cached.stats;
  };
  for (const [name, help, field] of VOLUME_STATS_METRICS) {
    new Gauge({
      name,
      help,
      labelNames: ['namespace', 'persistentvolumeclaim'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await reading()) {
          const value = s[field];
          if (value !== undefined)
            this.set({ namespace: s.namespace, persistentvolumeclaim: s.claim }, value);
        }
      },
    });
  }
  // Only volumes whose driver reported a VolumeCondition, as upstream's collector.
  new Gauge({
    name: HEALTH_ABNORMAL,
    help: 'Abnormal volume health status. The count is either 1 or 0. 1 indicates the volume is unhealthy, 0 indicates volume is healthy',
    labelNames: ['namespace', 'persistentvolumeclaim'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await reading())
        if (s.abnormal !== undefined)
          this.set({ namespace: s.namespace, persistentvolumeclaim: s.claim }, s.abnormal ? 1 : 0);
    },
  });
}
