import type { ContainerdVersion } from './containerd-version';
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

/**
 * The runc each containerd runs when neither option nor variable says: 2.1 with unstable's 1.3,
 * as a current node has (user namespaces work); 1.6 with stable's 1.1, the pair Debian ships.
 */
export const DEFAULT_RUNC: Readonly<Record<ContainerdVersion, RuncVersion>> = { '1.6': '1.1', '2.1': '1.3' };

export class RuncVersionError extends Error {
  readonly code = 'RUNC_VERSION';
  constructor(message: string) {
    super(message);
    this.name = 'RuncVersionError';
  }
}

/** The `runc` option, else NODEAGENT_RUNC, else the containerd's default (DEFAULT_RUNC). */
export function resolveRuncVersion(
  option: string | undefined,
  containerd: ContainerdVersion,
  env: NodeJS.ProcessEnv = process.env,
): RuncVersion {
  return chooseVersion({
    option,
    optionName: 'runc option',
    envName: RUNC_VERSION_ENV,
    env,
    versions: RUNC_VERSIONS,
    fallback: DEFAULT_RUNC[containerd],
    what: 'runc',
    error: (message) => new RuncVersionError(message),
  });
}

/**
 * The runc binary for the shim's `BinaryName`: undefined for 1.1 (the shim finds `runc` on PATH),
 * the unpacked binary for 1.3, or a typed error naming the fix when it is not unpacked. With
 * `defaultOf` (1.3 was not asked for but is that containerd's default) the error also says so
 * and how to run stable's runc instead.
 */
export function runcBinary(
  version: RuncVersion,
  cacheDir = RUNC_UNSTABLE_CACHE,
  defaultOf?: ContainerdVersion,
): string | undefined {
  if (version === '1.1') return undefined;
  if (runcUnstablePresent(cacheDir)) return unstableRuncPath(cacheDir);
  const missing = `runc ${version} is not unpacked in ${cacheDir}: run \`node tools/install-deps.mjs\` as root (it downloads Debian unstable's runc and libc6 there without installing them)`;
  throw new RuncVersionError(
    defaultOf === undefined
      ? missing
      : `${missing}; containerd ${defaultOf} runs runc ${version} by default (${RUNC_VERSION_ENV}=1.1 runs stable's runc 1.1 instead, without user namespaces)`,
  );
}

/** The runc for a containerd: its version (resolveRuncVersion) and binary (runcBinary). */
export function chooseRunc(
  option: string | undefined,
  containerd: ContainerdVersion,
  env: NodeJS.ProcessEnv = process.env,
  cacheDir = RUNC_UNSTABLE_CACHE,
): { version: RuncVersion; binary: string | undefined } {
  const version = resolveRuncVersion(option, containerd, env);
  const defaulted = option === undefined && !env[RUNC_VERSION_ENV];
  return { version, binary: runcBinary(version, cacheDir, defaulted ? containerd : undefined) };
}
