import type { KubeletConfiguration } from '@nodeagent/kubelet';
import {
  type DiskUsage,
  PodVolumeStatsCache,
  type PodVolumeStatsSource,
  podVolumeUsage,
} from '@nodeagent/kubelet/stats';
import type { CsiVolumeUsage } from '@nodeagent/kubelet/volumes';
import { parseDuration, systemClock } from '@nodeagent/primitives';
import type { Logger } from 'pino';

/** Where the summary's pod volume usage comes from, and the background work behind it. */
export interface PodVolumeStats {
  source: PodVolumeStatsSource | 'none';
  /** Upstream's fsResourceAnalyzer.Start: called where its initializeModules starts it. */
  start(): void;
  stop(): void;
}

/** A pod's CSI volumes as their drivers measure them, by the pod's volume name. */
export type CsiVolumeStatsSource = (uid: string) => Promise<Map<string, CsiVolumeUsage>>;

/** A CSI volume's figures as the summary's DiskUsage: on a filesystem of its own. */
function csiDiskUsage(u: CsiVolumeUsage): DiskUsage {
  return {
    bytes: u.usedBytes ?? 0,
    inodes: u.inodesUsed ?? 0,
    ownFs: {
      capacityBytes: u.capacityBytes,
      availableBytes: u.availableBytes,
      inodes: u.inodes,
      inodesFree: u.inodesFree,
      ...(u.pvcRef ? { pvcRef: u.pvcRef } : {}),
      ...(u.abnormal !== undefined ? { abnormal: u.abnormal } : {}),
    },
  };
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
  csiVolumes: CsiVolumeStatsSource = async () => new Map(),
): PodVolumeStats {
  const periodMs = parseDuration(config.volumeStatsAggPeriod);
  if (periodMs <= 0)
    return { source: 'none', start: () => logger.info('Volume stats collection disabled.'), stop: () => {} };
  const cache = new PodVolumeStatsCache({
    periodMs,
    pods: podUids,
    // The node-filesystem volumes walked, the CSI ones asked of their drivers (NodeGetVolumeStats).
    measure: async (uid) => {
      const [local, csi] = await Promise.all([podVolumeUsage(rootDir, uid), csiVolumes(uid)]);
      const out = new Map<string, DiskUsage>(local);
      for (const [name, usage] of csi) out.set(name, csiDiskUsage(usage));
      return out;
    },
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
