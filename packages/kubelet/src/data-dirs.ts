import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { goPathError } from '@nodeagent/primitives';
import { KubeletError } from './errors';
import { podsDir } from './pod-dirs';

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

/** Upstream's mode for `checkpoints/`, where the kubelet server's /checkpoint archives go. */
export const checkpointsDirMode = 0o700;

/**
 * The directories under --root-dir (and podLogsDir) this kubelet uses, created at start as
 * upstream's setupDataDirs does, in its order and with its mode: the root, the pod logs root and
 * `pods/`, `plugins/`, `plugins_registry/` and `pod-resources/` (0750), then `checkpoints/`
 * (0700) when feature gate ContainerCheckpoint is on (its default: absent from `featureGates`).
 * Existing directories keep their mode.
 */
export async function setupDataDirs(
  rootDir: string,
  podLogsDir: string,
  featureGates: Readonly<Record<string, boolean>> = {},
): Promise<void> {
  const dirs: [field: string, path: string, what: string, mode: number][] = [
    ['rootDir', rootDir, 'error creating root directory', dataDirMode],
    ['podLogsDir', podLogsDir, `error creating pod logs root directory "${podLogsDir}"`, dataDirMode],
    ['rootDir', podsDir(rootDir), 'error creating pods directory', dataDirMode],
    ['rootDir', join(rootDir, 'plugins'), 'error creating plugins directory', dataDirMode],
    ['rootDir', join(rootDir, 'plugins_registry'), 'error creating plugins registry directory', dataDirMode],
    ['rootDir', join(rootDir, 'pod-resources'), 'error creating podresources directory', dataDirMode],
  ];
  if (featureGates.ContainerCheckpoint ?? true)
    dirs.push([
      'rootDir',
      join(rootDir, 'checkpoints'),
      'error creating checkpoint directory',
      checkpointsDirMode,
    ]);
  for (const [field, path, what, mode] of dirs) {
    try {
      await mkdir(path, { recursive: true, mode });
    } catch (error) {
      throw new DataDirSetupError(field, path, `${what}: ${goPathError(error)}`);
    }
  }
}
