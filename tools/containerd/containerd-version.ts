import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CONTAINERD_2_CACHE, CONTAINERD_2_SERIES, containerd2Present } from './unstable-containerd.mjs';
import { RUNC_UNSTABLE_CACHE, runcUnstablePresent } from './unstable-runc.mjs';
import { chooseVersion } from './version-choice';

/** The containerd a private instance runs: Debian stable's (installed) or unstable's (unpacked). */
export type ContainerdVersion = '1.6' | '2.1';
export const CONTAINERD_VERSIONS: readonly ContainerdVersion[] = ['1.6', '2.1'];
/** Picks the version for a whole test run when no `version` option is given. */
export const CONTAINERD_VERSION_ENV = 'NODEAGENT_CONTAINERD';

export class ContainerdVersionError extends Error {
  readonly code = 'CONTAINERD_VERSION';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerdVersionError';
  }
}

/** The `version` option, else NODEAGENT_CONTAINERD, else 1.6 (the installed one). */
export function resolveContainerdVersion(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ContainerdVersion {
  return chooseVersion({
    option,
    optionName: 'version option',
    envName: CONTAINERD_VERSION_ENV,
    env,
    versions: CONTAINERD_VERSIONS,
    fallback: '1.6',
    what: 'containerd',
    error: (message) => new ContainerdVersionError(message),
  });
}

/** The executables one version runs with. */
export interface ContainerdBinaries {
  version: ContainerdVersion;
  containerd: string;
  /** The `ctr` that matches the daemon (start-up probe, stop()). */
  ctr: string;
  /**
   * Put first on containerd's PATH so it starts the matching containerd-shim-runc-v2 (which runc
   * the shim runs is the config's `BinaryName`, runc-version.ts). Undefined: the system PATH.
   */
  binDir?: string;
}

/**
 * The binaries of `version`: for 1.6 the installed ones on `searchPath`, for 2.1 the ones
 * tools/install-deps.mjs unpacked; a typed error naming the fix when they are not there (without
 * it, nsenter's bare "No such file or directory" was all a fresh machine said).
 */
export function containerdBinaries(
  version: ContainerdVersion,
  cacheDir = CONTAINERD_2_CACHE,
  searchPath = process.env.PATH ?? '',
): ContainerdBinaries {
  if (version === '1.6') {
    if (!onSearchPath('containerd', searchPath))
      throw new ContainerdVersionError(
        "containerd 1.6 is not installed (no `containerd` on PATH): run `node tools/install-deps.mjs` as root (it installs Debian's containerd package), or choose the unpacked 2.1 with NODEAGENT_CONTAINERD=2.1",
      );
    return { version, containerd: 'containerd', ctr: 'ctr' };
  }
  if (!containerd2Present(cacheDir))
    throw new ContainerdVersionError(
      `containerd ${CONTAINERD_2_SERIES} is not unpacked in ${cacheDir}: run \`node tools/install-deps.mjs\` as root (it downloads Debian unstable's containerd there without installing it)`,
    );
  const binDir = join(cacheDir, 'usr', 'bin');
  return { version, containerd: join(binDir, 'containerd'), ctr: join(binDir, 'ctr'), binDir };
}

/**
 * Whether 2.1 can run here with its default runc 1.3 (for callers that prefer it when present,
 * e.g. `npm start`): both are unpacked by the same tools/install-deps.mjs.
 */
export function containerd21Available(
  cacheDir = CONTAINERD_2_CACHE,
  runcCacheDir = RUNC_UNSTABLE_CACHE,
): boolean {
  return containerd2Present(cacheDir) && runcUnstablePresent(runcCacheDir);
}

/** Whether an executable `name` is in one of `searchPath`'s directories. */
function onSearchPath(name: string, searchPath: string): boolean {
  return searchPath
    .split(delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
