import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import { sep } from 'node:path';

// The guard between a log path the server builds and the file it reads: a log file (or a
// directory on its way) replaced by a symlink to somewhere outside the log directory must not
// be read with the kubelet's rights (the container-log symlink class of kubelet CVEs). The file
// is opened first and the *opened* file's real path checked (/proc/self/fd), so a swap between
// a check and the open cannot slip past: what is read is what was checked.

/** A file opened inside `root`, or why not: the errno of the open, or `outside` the root. */
export type ContainedOpen =
  | { handle: FileHandle; realPath: string }
  | { refused: 'outside'; realPath: string }
  | { refused: 'error'; error: NodeJS.ErrnoException };

/**
 * Opens `path` read-only and keeps it only when its real path is under `root`'s real path.
 * `followLast: false` adds O_NOFOLLOW: the last component may not be a symlink at all (ELOOP),
 * as for a container log file, which the runtime writes as a regular file.
 */
export async function openContained(root: string, path: string, followLast: boolean): Promise<ContainedOpen> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (followLast ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    return { refused: 'error', error: error as NodeJS.ErrnoException };
  }
  try {
    const [realPath, realRoot] = await Promise.all([readlink(`/proc/self/fd/${handle.fd}`), realpath(root)]);
    const inside =
      realPath === realRoot || realPath.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
    if (inside) return { handle, realPath };
    await handle.close();
    return { refused: 'outside', realPath };
  } catch (error) {
    await handle.close();
    return { refused: 'error', error: error as NodeJS.ErrnoException };
  }
}
