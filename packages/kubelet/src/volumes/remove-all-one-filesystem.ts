import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A directory the removal would have crossed into another filesystem (upstream's refusal, in its words). */
export class MountPointInTheWayError extends Error {
  override readonly name = 'MountPointInTheWayError';
  readonly code = 'MOUNT_POINT_IN_THE_WAY';
  constructor(readonly path: string) {
    super(`cannot delete directory ${path}: it is a mount point`);
  }
}

/**
 * Upstream's removeall.RemoveAllOneFilesystem: removes `path` and what it holds, but refuses (and
 * stops) at any directory that is a mount point, so a volume still mounted somewhere in an orphaned
 * pod's directory keeps its data. A directory counts as a mount point when the mounter says so or
 * when it sits on another device than its parent (upstream's IsLikelyNotMountPoint).
 */
export async function removeAllOneFilesystem(
  path: string,
  isMountPoint: (path: string) => Promise<boolean>,
): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat) return;
  if (!stat.isDirectory()) {
    await unlink(path);
    return;
  }
  const parent = await lstat(dirname(path));
  if (parent.dev !== stat.dev || (await isMountPoint(path))) throw new MountPointInTheWayError(path);
  for (const name of await readdir(path)) await removeAllOneFilesystem(join(path, name), isMountPoint);
  await rmdir(path);
}
