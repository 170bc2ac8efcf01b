import { statfs } from 'node:fs/promises';
import type { CsiVolumeUsage } from './csi/csi-volume-stats';

/**
 * Upstream's MetricsStatFS, what local and nfs volumes report: the statfs of the volume's
 * directory, capacity the filesystem's blocks, available what an unprivileged user may still
 * write (bavail), used the blocks not free, and the inodes likewise.
 */
export async function statfsUsage(dir: string): Promise<CsiVolumeUsage> {
  const fs = await statfs(dir);
  return {
    capacityBytes: fs.blocks * fs.bsize,
    availableBytes: fs.bavail * fs.bsize,
    usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
    inodes: fs.files,
    inodesFree: fs.ffree,
    inodesUsed: fs.files - fs.ffree,
  };
}
