import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { systemFormatAndMount } from './format-and-mount';

const run = promisify(execFile);

/** Mount operations the volume manager needs; injected so unit tests need no root. */
export interface Mounter {
  /** Mounts a tmpfs on the existing directory `target`, limited to `sizeBytes` when given and > 0. */
  mountTmpfs(target: string, sizeBytes?: number): Promise<void>;
  /**
   * Bind-mounts `source` on the existing directory `target`, read-only when asked, with the
   * volume's mount `options` (local PersistentVolumes). A mounter without it sets up no local volume.
   */
  bindMount?(source: string, target: string, readOnly: boolean, options?: string[]): Promise<void>;
  /**
   * Formats `source` (a block device) with `fsType` when it has no filesystem, then mounts it on
   * the existing directory `target` with `options` (mount-utils' FormatAndMount; a local
   * PersistentVolume on a disk). A mounter without it mounts no such volume.
   */
  formatAndMount?(source: string, target: string, fsType: string, options: string[]): Promise<void>;
  /** Unmounts `target`; rejects when it is not a mount point. */
  unmount(target: string): Promise<void>;
  /** Whether something is mounted exactly at `target`. */
  isMountPoint(target: string): Promise<boolean>;
}

/** The host's mount(8)/umount(8); needs CAP_SYS_ADMIN. */
export const systemMounter: Mounter = {
  async mountTmpfs(target, sizeBytes) {
    const options = sizeBytes && sizeBytes > 0 ? ['-o', `size=${sizeBytes}`] : [];
    await run('mount', ['-t', 'tmpfs', ...options, 'tmpfs', target]);
  },
  async bindMount(source, target, readOnly, options = []) {
    await run('mount', ['--bind', source, target]);
    // A bind mount takes ro and other options only on a remount (as mount-utils does it).
    const remount = [...new Set([...(readOnly ? ['ro'] : []), ...options])].filter(
      (option) => option !== 'bind' && option !== 'remount',
    );
    if (remount.length > 0)
      await run('mount', ['-o', ['bind', 'remount', ...remount.sort()].join(','), target]);
  },
  formatAndMount: systemFormatAndMount,
  async unmount(target) {
    await run('umount', [target]);
  },
  async isMountPoint(target) {
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    return mounts.split('\n').some((line) => line.split(' ')[1] === target);
  },
};

/** A mounter that only records what it was asked to do (tests, unprivileged runs). */
export class RecordingMounter implements Mounter {
  readonly mounted = new Map<string, number | undefined>();

  /** Records `target` as mounted with `sizeBytes`. */
  async mountTmpfs(target: string, sizeBytes?: number): Promise<void> {
    this.mounted.set(target, sizeBytes);
  }

  /** Binds recorded by target: the source, whether read-only, and the mount options given. */
  readonly binds = new Map<string, { source: string; readOnly: boolean; options: string[] }>();

  /** Records `target` as mounted, bound to `source`. */
  async bindMount(source: string, target: string, readOnly: boolean, options: string[] = []): Promise<void> {
    this.mounted.set(target, undefined);
    this.binds.set(target, { source, readOnly, options });
  }

  /** Devices formatted-and-mounted, by target: the device, its filesystem type and the options. */
  readonly deviceMounts = new Map<string, { source: string; fsType: string; options: string[] }>();

  /** Records `target` as mounted from `source`. */
  async formatAndMount(source: string, target: string, fsType: string, options: string[]): Promise<void> {
    this.mounted.set(target, undefined);
    this.deviceMounts.set(target, { source, fsType, options });
  }

  /** Forgets `target`; never rejects. */
  async unmount(target: string): Promise<void> {
    this.mounted.delete(target);
    this.binds.delete(target);
    this.deviceMounts.delete(target);
  }

  /** Whether `target` was recorded as mounted and not unmounted since. */
  async isMountPoint(target: string): Promise<boolean> {
    return this.mounted.has(target);
  }
}
