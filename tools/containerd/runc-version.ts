import { RUNC_UNSTABLE_CACHE, runcUnstablePresent, unstableRuncPath } from './unstable-runc.mjs';
import { chooseVersion } from './version-choice';

/**
 * The runc a private containerd's runc shim runs: '1.1' is Debian stable's (installed, on PATH);
 * '1.3' is Debian unstable's, unpacked with its C library by tools/install-deps.mjs. Only 1.3
 * idmaps mounts, so only with it does containerd 2.1 offer user namespaces (`hostUsers: false`).
 */
export type RuncVersion = '1.1' | '1.3';
export const RUNC_VERSIONS: readonly RuncVersion[] = ['1.1', '1.3'];
/** Picks the runc for a whole test run when no `runc` option is given. */
export const RUNC_VERSION_ENV = 'NODEAGENT_RUNC';

export class RuncVersionError extends Error {
  readonly code = 'RUNC_VERSION';
  constructor(message: string) {
    super(message);
    this.name = 'RuncVersionError';
  }
}

/** The `runc` option, else NODEAGENT_RUNC, else 1.1 (the installed one). */
export function resolveRuncVersion(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): RuncVersion {
  return chooseVersion({
    option,
    optionName: 'runc option',
    envName: RUNC_VERSION_ENV,
    env,
    versions: RUNC_VERSIONS,
    fallback: '1.1',
    what: 'runc',
    error: (message) => new RuncVersionError(message),
  });
}

/**
 * The runc binary for the shim's `BinaryName`: undefined for 1.1 (the shim finds `runc` on PATH),
 * the unpacked binary for 1.3, or a typed error naming the fix when it is not unpacked.
 */
export function runcBinary(version: RuncVersion, cacheDir = RUNC_UNSTABLE_CACHE): string | undefined {
  if (version === '1.1') return undefined;
  if (!runcUnstablePresent(cacheDir))
    throw new RuncVersionError(
      `runc ${version} is not unpacked in ${cacheDir}: run \`node tools/install-deps.mjs\` as root (it downloads Debian unstable's runc and libc6 there without installing them)`,
    );
  return unstableRuncPath(cacheDir);
}
