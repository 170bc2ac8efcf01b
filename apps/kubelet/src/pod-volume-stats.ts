import type { KubeletConfiguration } from '@nodeagent/kubelet';
import { PodVolumeStatsCache, type PodVolumeStatsSource, podVolumeUsage } from '@nodeagent/kubelet/stats';
import { parseDuration, systemClock } from '@nodeagent/primitives';
import type { Logger } from 'pino';

/** Where the summary's pod volume usage comes from, and the background work behind it. */
export interface PodVolumeStats {
  source: PodVolumeStatsSource | 'none';
  /** Upstream's fsResourceAnalyzer.Start: called where its initializeModules starts it. */
  start(): void;
  stop(): void;
}

/**
 * volumeStatsAggPeriod as upstream's fsResourceAnalyzer applies it: volume usage measured in the
 * background every period and read from that cache; 0 or less disables volume stats (the
 * summary then has none), logged as upstream logs it.
 */
export function podVolumeStats(
  config: Pick<KubeletConfiguration, 'volumeStatsAggPeriod'>,
  rootDir: string,
  podUids: () => Iterable<string>,
  logger: Pick<Logger, 'info'>,
): PodVolumeStats {
  const periodMs = parseDuration(config.volumeStatsAggPeriod);
  if (periodMs <= 0)
    return { source: 'none', start: () => logger.info('Volume stats collection disabled.'), stop: () => {} };
  const cache = new PodVolumeStatsCache({
    periodMs,
    pods: podUids,
    measure: (uid) => podVolumeUsage(rootDir, uid),
    clock: systemClock,
  });
  return {
    source: cache,
    start: () => {
      logger.info('Starting FS ResourceAnalyzer');
      cache.start();
    },
    stop: () => cache.stop(),
  };
}
