import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { podVolumesDir } from '../pod-dirs';
import type { StatFsFigures } from './host-sources';
import type { FsStats } from './summary-types';

/** A filesystem's capacity, free space and inodes from statfs (used = blocks − free blocks). */
export function fsStatsFromStatfs(s: StatFsFigures, time: string): FsStats {
  return {
    time,
    availableBytes: s.bavail * s.bsize,
    capacityBytes: s.blocks * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    inodesFree: s.ffree,
    inodes: s.files,
    inodesUsed: s.files - s.ffree,
  };
}

/**
 * Bytes and inodes under a directory (what upstream's du-based volume and log metrics measure).
 * A missing directory counts as empty; entries that vanish while walking are skipped.
 */
export async function directoryUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0;
  let inodes = 0;
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (!info) return;
    inodes++;
    bytes += info.isDirectory() ? 0 : info.size;
    if (!info.isDirectory()) return;
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const entry of entries) await walk(join(path, entry));
  };
  await walk(dir);
  return { bytes, inodes };
}

/**
 * Usage of every volume directory of a pod: <rootDir>/pods/<uid>/volumes/<plugin>/<name>, by
 * name. CSI volumes (kubernetes.io~csi) are left out: they live on their drivers' storage, which
 * NodeGetVolumeStats measures (PodVolumeManager.csiVolumeStats), never walked here.
 */
export async function podVolumeUsage(
  rootDir: string,
  uid: string,
): Promise<Map<string, { bytes: number; inodes: number }>> {
  const out = new Map<string, { bytes: number; inodes: number }>();
  const base = podVolumesDir(rootDir, uid);
  for (const plugin of await readdir(base).catch(() => [] as string[])) {
    if (plugin === 'kubernetes.io~csi') continue;
    for (const name of await readdir(join(base, plugin)).catch(() => [] as string[])) {
      out.set(name, await directoryUsage(join(base, plugin, name)));
    }
  }
  return out;
}
