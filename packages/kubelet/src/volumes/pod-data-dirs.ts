import { mkdir } from 'node:fs/promises';
import { goPathError } from '@nodeagent/primitives';
import { KubeletError } from '../errors';
import { podDir, podPluginsDir, podVolumesDir } from '../pod-dirs';

/** Upstream's mode for a pod's directory and its `volumes/` and `plugins/` (makePodDataDirs). */
const podDataDirMode = 0o750;

/**
 * A pod's data directories could not be made. Upstream's sync posts it as a Warning event,
 * reason FailedToMakePodDataDirectories, and fails the sync (retried with the pod's backoff).
 */
export class PodDataDirsError extends KubeletError {
  constructor(path: string, reason: string) {
    super('POD_DATA_DIRS', 'rootDir', path, reason, `error making pod data directories: ${reason}`);
  }
}

/**
 * Upstream SyncPod's makePodDataDirs, before the pod's volumes are mounted: `<rootDir>/pods/<uid>`
 * and its `volumes/` and `plugins/`, mode 0750 (directories that exist keep theirs). Every pod
 * has them, with volumes or not; other tools (CSI drivers, node agents reading volume usage)
 * expect them there.
 */
export async function makePodDataDirs(rootDir: string, uid: string): Promise<void> {
  for (const dir of [podDir(rootDir, uid), podVolumesDir(rootDir, uid), podPluginsDir(rootDir, uid)]) {
    try {
      await mkdir(dir, { recursive: true, mode: podDataDirMode });
    } catch (error) {
      // A file in the way: Go's MkdirAll says ENOTDIR where Node's mkdir says EEXIST.
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      throw new PodDataDirsError(dir, exists ? `mkdir ${dir}: not a directory` : goPathError(error));
    }
  }
}
