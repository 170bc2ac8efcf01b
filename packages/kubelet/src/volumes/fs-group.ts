import { chmod, chown, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../api/pod-types';

/** Upstream pkg/volume/volume_linux.go permission masks. */
export const rwMask = 0o660;
export const roMask = 0o440;
export const execMask = 0o110;
const setgidBit = 0o2000;

/** PodSecurityContext.fsGroupChangePolicy (absent means Always). */
export type FSGroupChangePolicy = 'Always' | 'OnRootMismatch';

/** The pod's fsGroup and change policy, if it sets one. */
export function podFSGroup(pod: Pod): { fsGroup: number; policy: FSGroupChangePolicy } | undefined {
  const security = (pod.spec.securityContext ?? {}) as { fsGroup?: number; fsGroupChangePolicy?: string };
  if (security.fsGroup === undefined) return undefined;
  return {
    fsGroup: security.fsGroup,
    policy: security.fsGroupChangePolicy === 'OnRootMismatch' ? 'OnRootMismatch' : 'Always',
  };
}

/** The mode a path gets under fsGroup: group read(-write), plus setgid and search on directories. */
export function fsGroupMode(mode: number, isDirectory: boolean, readOnly: boolean): number {
  let mask = readOnly ? roMask : rwMask;
  if (isDirectory) mask |= setgidBit | execMask;
  return (mode & 0o7777) | mask;
}

/**
 * Upstream skipPermissionChange for OnRootMismatch: the volume root already belongs to the group
 * with the expected bits, so the (possibly large) tree is assumed to be right too.
 */
async function rootMatches(dir: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  const info = await lstat(dir);
  if (info.gid !== fsGroup) return false;
  const wanted = fsGroupMode(info.mode, true, readOnly);
  return (info.mode & 0o7777) === wanted;
}

/**
 * Upstream SetVolumeOwnership: every file and directory of the volume becomes group fsGroup,
 * group-readable (and writable unless the volume is read-only), directories setgid so new files
 * inherit the group. Symlinks are re-grouped but keep their mode. Returns whether it walked the
 * tree (false when OnRootMismatch found the root already right).
 */
export async function setVolumeOwnership(
  dir: string,
  fsGroup: number,
  options: { readOnly?: boolean; policy?: FSGroupChangePolicy } = {},
): Promise<boolean> {
  const readOnly = options.readOnly ?? false;
  if (options.policy === 'OnRootMismatch' && (await rootMatches(dir, fsGroup, readOnly))) return false;
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      await lchown(path, -1, fsGroup);
      return;
    }
    await chown(path, -1, fsGroup);
    await chmod(path, fsGroupMode(info.mode, info.isDirectory(), readOnly));
    if (info.isDirectory()) {
      for (const entry of await readdir(path)) await walk(join(path, entry));
    }
  };
  await walk(dir);
  return true;
}
