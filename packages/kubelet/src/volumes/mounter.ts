import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { attachFileDevice, bindDeviceFile, detachFileDevice } from './block-device-lock';
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
  /**
   * Binds the block device `devicePath` on the file `target`, made when missing (a mapped block
   * volume's per-pod bind, upstream's mapBindMountDevice; the caller asks isMountPoint first). A
   * mounter without it and the two below maps block volumes without upstream's lock on the device.
   */
  bindDeviceFile?(devicePath: string, target: string): Promise<void>;
  /** Sets up a loop device over `path` unless one is there (upstream's AttachFileDevice). */
  attachFileDevice?(path: string): Promise<void>;
  /** Detaches the loop device over `path`; false when there was none (DetachFileDevice). */
  detachFileDevice?(path: string): Promise<boolean>;
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
  bindDeviceFile,
  attachFileDevice,
  detachFileDevice,
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

  /** Files a block device is bound on, by target: the device. */
  readonly deviceBinds = new Map<string, string>();

  /** Records `target` as mounted, bound to the device `devicePath`. */
  async bindDeviceFile(devicePath: string, target: string): Promise<void> {
    this.mounted.set(target, undefined);
    this.deviceBinds.set(target, devicePath);
  }

  /** Paths a loop device was set up over and not detached since. */
  readonly loopDevices = new Set<string>();

  /** Records a loop device over `path`. */
  async attachFileDevice(path: string): Promise<void> {
    this.loopDevices.add(path);
  }

  /** Forgets the loop device over `path`; whether there was one. */
  async detachFileDevice(path: string): Promise<boolean> {
    return this.loopDevices.delete(path);
  }

  /** Forgets `target`; never rejects. */
  async unmount(target: string): Promise<void> {
    this.mounted.delete(target);
    this.binds.delete(target);
    this.deviceMounts.delete(target);
    this.deviceBinds.delete(target);
  }

  /** Whether `target` was recorded as mounted and not unmounted since. */
  async isMountPoint(target: string): Promise<boolean> {
    return this.mounted.has(target);
  }
}
