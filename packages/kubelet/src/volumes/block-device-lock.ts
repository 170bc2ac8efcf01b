import { lstat, mkdir, open, readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runCommand } from '@nodeagent/primitives';

/**
 * Upstream's "file descriptor lock" of a mapped block volume (MapBlockVolume in
 * pkg/volume/util with its BlockVolumePathHandler): the device is bind-mounted on a file of its
 * own per pod, `<globalMapPath>/<pod uid>`, and a loop device is set up over that file. The loop
 * device keeps the block device open while the pod runs, so that a device removed under a
 * running container cannot be silently replaced by another one that takes its name.
 */

/** Where the kernel names each loop device's backing file. */
const SYS_BLOCK = '/sys/block';

/** Runs util-linux's losetup (Debian's `mount` package); rejects with its output on failure. */
async function losetup(args: string[]): Promise<void> {
  const { exitCode, stdout, stderr } = await runCommand(['losetup', ...args], { debianPackage: 'mount' });
  if (exitCode !== 0)
    throw new Error(
      `losetup ${args.join(' ')} failed: exit status ${exitCode}: ${`${stdout}${stderr}`.trim()}`,
    );
}

/** A backing file's path as sysfs gives it, without the " (deleted)" the kernel adds (cleanBackingFilePath). */
function cleanBackingFilePath(text: string): string {
  return text
    .trim()
    .replace(/\(deleted\)$/, '')
    .trim();
}

/**
 * The loop device (`/dev/loopN`) whose backing file is `path` or what it resolves to, as
 * upstream's getLoopDeviceFromSysfs finds it; undefined when there is none.
 */
export async function loopDeviceOf(path: string): Promise<string | undefined> {
  const real = await realpath(path);
  const devices = (await readdir(SYS_BLOCK).catch(() => [] as string[])).filter((name) =>
    name.startsWith('loop'),
  );
  for (const device of devices) {
    const backing = await readFile(join(SYS_BLOCK, device, 'loop', 'backing_file'), 'utf8').catch(
      () => undefined,
    );
    if (backing === undefined) continue;
    const file = cleanBackingFilePath(backing);
    if (file === path || file === real) return `/dev/${device}`;
  }
  return undefined;
}

/**
 * Upstream's mapBindMountDevice: the device `devicePath` bound on the file `target` (made 0750,
 * with its directory, when missing). The caller asks first whether a bind is there already.
 */
export async function bindDeviceFile(devicePath: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o750 });
  if (!(await lstat(target).catch(() => undefined))) await (await open(target, 'a+', 0o750)).close();
  const { exitCode, stdout, stderr } = await runCommand(['mount', '--bind', devicePath, target], {
    debianPackage: 'mount',
  });
  if (exitCode !== 0)
    throw new Error(
      `failed to bind mount devicePath: ${devicePath} to linkPath ${target}: mount failed: exit status ${exitCode}: ${`${stdout}${stderr}`.trim()}`,
    );
}

/** Upstream's AttachFileDevice: a loop device over `path` unless one is there already (`losetup -f <path>`). */
export async function attachFileDevice(path: string): Promise<void> {
  if (await loopDeviceOf(path)) return;
  try {
    await losetup(['-f', path]);
  } catch (error) {
    throw new Error(`makeLoopDevice failed for path ${path}: ${(error as Error).message}`);
  }
}

/**
 * Upstream's DetachFileDevice: the loop device over `path` detached (`losetup -d`); false when
 * there is none (upstream warns and goes on).
 */
export async function detachFileDevice(path: string): Promise<boolean> {
  if (!(await lstat(path).catch(() => undefined))) return false;
  const loop = await loopDeviceOf(path);
  if (!loop) return false;
  try {
    await losetup(['-d', loop]);
  } catch (error) {
    // A loop device removed meanwhile is what was asked (upstream's removeLoopDevice).
    if (await lstat(loop).catch(() => undefined))
      throw new Error(`removeLoopDevice failed for path ${path}: ${(error as Error).message}`);
  }
  return true;
}
