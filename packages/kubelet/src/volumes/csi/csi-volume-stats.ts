import type { CsiNodeClient } from '@nodeagent/csi-client';

/**
 * One CSI volume's usage from NodeGetVolumeStats, in the summary's VolumeStats terms (upstream's
 * csiMetricsProvider): bytes and inodes, the claim it belongs to, and the driver's VolumeCondition.
 */
export interface CsiVolumeUsage {
  /** The volume's size (BYTES total). */
  capacityBytes?: number;
  /** Bytes free (BYTES available). */
  availableBytes?: number;
  /** Bytes used (BYTES used). */
  usedBytes?: number;
  /** Inodes in all (INODES total). */
  inodes?: number;
  /** Inodes free (INODES available). */
  inodesFree?: number;
  /** Inodes used (INODES used). */
  inodesUsed?: number;
  /** VolumeCondition.abnormal, when the driver reported a condition. */
  abnormal?: boolean;
  /** The claim of a persistent volume (the summary's pvcRef). */
  pvcRef?: { name: string; namespace: string };
}

/**
 * NodeGetVolumeStats for one published volume (its path only); rejects as the call does. As upstream's CSI client,
 * every figure starts at 0 and only the units the driver reports fill theirs in: a block volume's
 * driver that reports BYTES total alone gives its size with 0 available, used and inodes. An answer
 * without any usage is upstream's error.
 */
export async function readCsiVolumeStats(
  client: CsiNodeClient,
  volume: { volumeHandle: string; targetPath: string },
): Promise<CsiVolumeUsage> {
  // Upstream's metricsCsi asks with the volume's path alone, never its staging path.
  const res = await client.nodeGetVolumeStats({
    volumeId: volume.volumeHandle,
    volumePath: volume.targetPath,
  });
  if (res.usage.length === 0) throw new Error('failed to get usage from response. usage is nil');
  const out: CsiVolumeUsage = {
    capacityBytes: 0,
    availableBytes: 0,
    usedBytes: 0,
    inodes: 0,
    inodesFree: 0,
    inodesUsed: 0,
  };
  for (const u of res.usage) {
    if (u.unit === 'BYTES') {
      out.capacityBytes = u.total;
      out.availableBytes = u.available;
      out.usedBytes = u.used;
    } else if (u.unit === 'INODES') {
      out.inodes = u.total;
      out.inodesFree = u.available;
      out.inodesUsed = u.used;
    }
  }
  if (res.volumeCondition) out.abnormal = res.volumeCondition.abnormal;
  return out;
}
