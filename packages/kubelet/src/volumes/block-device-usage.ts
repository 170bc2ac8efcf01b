import { readFile, stat } from 'node:fs/promises';
import type { CsiVolumeUsage } from './csi/csi-volume-stats';

/**
 * Upstream's MetricsBlock, what a local Block volume reports: the device's size as its capacity
 * and nothing more (the summary's other figures 0, as upstream's stats calculator fills in what a
 * volume leaves out). Upstream seeks to the device's end; the kernel gives the same size, in
 * sectors of 512 bytes, at /sys/dev/block/<major>:<minor>/size.
 */
export async function blockDeviceUsage(path: string): Promise<CsiVolumeUsage> {
  const info = await stat(path, { bigint: true });
  if (!info.isBlockDevice()) throw new Error(`${path} is not a block device`);
  // glibc's gnu_dev_major and gnu_dev_minor over Linux's 64-bit dev_t.
  const major = ((info.rdev >> 8n) & 0xfffn) | ((info.rdev >> 32n) & ~0xfffn);
  const minor = (info.rdev & 0xffn) | ((info.rdev >> 12n) & ~0xffn);
  const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim());
  return {
    capacityBytes: sectors * 512,
    availableBytes: 0,
    usedBytes: 0,
    inodes: 0,
    inodesFree: 0,
    inodesUsed: 0,
  };
}
