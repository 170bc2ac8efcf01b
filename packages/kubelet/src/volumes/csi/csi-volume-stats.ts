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

/** NodeGetVolumeStats for one published volume; rejects as the call does. */
export async function readCsiVolumeStats(
  client: CsiNodeClient,
  volume: { volumeHandle: string; targetPath: string; stagingTargetPath?: string },
): Promise<CsiVolumeUsage> {
  const res = await client.nodeGetVolumeStats({
    volumeId: volume.volumeHandle,
    volumePath: volume.targetPath,
    ...(volume.stagingTargetPath ? { stagingTargetPath: volume.stagingTargetPath } : {}),
  });
  const out: CsiVolumeUsage = {};
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
