import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { goPathError } from '@nodeagent/primitives';
import { KubeletError } from './errors';

/**
 * A kubelet data directory that could not be created at start. The message is upstream's error
 * behind the field (`rootDir: error creating root directory: mkdir /x: not a directory`): the
 * path is in it already.
 */
export class DataDirSetupError extends KubeletError {
  constructor(field: string, path: string, reason: string) {
    super('DATA_DIR_SETUP', field, path, reason, `${field}: ${reason}`);
  }
}

/** Upstream's mode for the root, pods and pod logs directories (setupDataDirs). */
export const dataDirMode = 0o750;

/**
 * The directories under --root-dir (and podLogsDir) this kubelet uses, created at start as
 * upstream's setupDataDirs does, in its order and with its mode: the root, the pod logs root and
 * `pods/`. Existing directories keep their mode. Upstream's plugins/, plugins_registry/,
 * pod-resources/ and checkpoints/ are not made: nothing here serves plugins, the pod-resources
 * API or checkpoints.
 */
export async function setupDataDirs(rootDir: string, podLogsDir: string): Promise<void> {
  const dirs: [field: string, path: string, what: string][] = [
    ['rootDir', rootDir, 'error creating root directory'],
    ['podLogsDir', podLogsDir, `error creating pod logs root directory "${podLogsDir}"`],
    ['rootDir', join(rootDir, 'pods'), 'error creating pods directory'],
  ];
  for (const [field, path, what] of dirs) {
    try {
      await mkdir(path, { recursive: true, mode: dataDirMode });
    } catch (error) {
      throw new DataDirSetupError(field, path, `${what}: ${goPathError(error)}`);
    }
  }
}
