import { relative } from 'node:path';
import { KubeletError } from '@nodeagent/kubelet/errors';
import { goListenError, goPathError, isCodedError, isFieldError } from '@nodeagent/primitives';
import { KUBELET_FLAGS } from './kubelet-flag-table';
import type { ResolvedKubeletOptions } from './kubelet-flags';

/**
 * The kubelet could not start with a setting as given (a port taken, a directory it cannot
 * create, a socket nothing answers on): one line naming the setting, then upstream's error, which
 * carries the value and the system's reason. Upstream exits 1 on each of these.
 */
export class StartUpError extends KubeletError {
  constructor(setting: string, value: unknown, reason: string) {
    super('START_UP_FAILED', setting, value, reason, `${setting}: ${reason}`);
  }
}

/**
 * How an operator finds a KubeletConfiguration field: `port (--port)` when a flag sets it too
 * (the value may come from either), else the field alone.
 */
export function settingName(field: string): string {
  const spec = KUBELET_FLAGS.find((flag) => flag.field === field);
  return spec ? `${field} (--${spec.flag})` : field;
}

/** The directories the settings name, for a file operation that failed under one of them. */
function directorySettings({ flags, config }: ResolvedKubeletOptions): [setting: string, dir: string][] {
  return [
    ['--root-dir', flags.rootDir],
    ['podLogsDir', config.podLogsDir],
    ['--cert-dir', flags.certDir],
  ];
}

/** The setting whose directory holds `path` (the deepest one, should one hold another). */
function settingOfPath(path: string, dirs: [string, string][]): [string, string] | undefined {
  const holding = dirs.filter(([, dir]) => !relative(dir, path).startsWith('..'));
  return holding.sort((a, b) => b[1].length - a[1].length)[0];
}

/**
 * A start-up failure as the line that names its setting: a data directory upstream's
 * setupDataDirs could not create, or a file operation that failed under --root-dir, podLogsDir or
 * --cert-dir (a key written at bootstrap, a record of the image manager). Anything else as it is.
 */
export function nameTheSetting(error: unknown, options: ResolvedKubeletOptions): unknown {
  // @nodeagent/kubelet's DataDirSetupError, by its code (the library may be another build's copy).
  if (isFieldError(error) && error.code === 'DATA_DIR_SETUP')
    return new StartUpError(
      error.field === 'rootDir' ? '--root-dir' : error.field,
      error.value,
      error.reason,
    );
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  if (isCodedError(error) || typeof path !== 'string') return error;
  const owner = settingOfPath(path, directorySettings(options));
  return owner ? new StartUpError(owner[0], owner[1], goPathError(error)) : error;
}

/**
 * The kubelet or read-only server could not listen on address:port: upstream logs "Failed to
 * listen and serve" with Go's error and exits 1.
 */
export function listenFailure(field: string, address: string, port: number, error: unknown): StartUpError {
  return new StartUpError(
    settingName(field),
    `${address}:${port}`,
    `failed to listen and serve: ${goListenError(error, address, port)}`,
  );
}
