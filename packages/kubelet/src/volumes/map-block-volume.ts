import { mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CsiVolumeOperationError } from './csi/csi-operation-error';
import type { Mounter } from './mounter';

/** One pod's mapping of a block volume, in upstream's terms (MapBlockVolume's arguments). */
export interface BlockVolumeMapping {
  /** The device, its host symlinks resolved (upstream's EvalHostSymlinks before MapBlockVolume). */
  devicePath: string;
  /** The volume's GetGlobalMapPath: each pod's bind of the device is `<globalMapPath>/<pod uid>`. */
  globalMapPath: string;
  podUid: string;
  /** The pod's link to the device, `pods/<uid>/volumeDevices/<plugin>/<name>` (GetPodDeviceMapPath). */
  podDeviceLink: string;
}

/** The PersistentVolume (or inline volume) name a failure's event names. */
type VolumeName = string;

function mapError(volume: VolumeName, detail: string, error: unknown): CsiVolumeOperationError {
  return new CsiVolumeOperationError(
    'MapVolume.MapBlockVolume',
    volume,
    `${detail}: ${(error as Error).message}`,
    false,
    {
      cause: error,
    },
  );
}

/**
 * Upstream's MapBlockVolume, common to the CSI and local block mappers: the device bound on
 * `<globalMapPath>/<pod uid>`, the pod's link to the device, and a loop device over the bind that
 * keeps the device open while the pod runs ("file descriptor lock"). Each step keeps what a
 * previous set-up made. A mounter without the bind and loop operations gives the link alone.
 */
export async function mapBlockVolume(
  mounter: Mounter,
  mapping: BlockVolumeMapping,
  volume: VolumeName,
): Promise<void> {
  const { devicePath, globalMapPath, podUid, podDeviceLink } = mapping;
  const lock = join(globalMapPath, podUid);
  // A bind already there (a repeated set-up, or one after a restart) is kept.
  if (mounter.bindDeviceFile && !(await mounter.isMountPoint(lock)))
    await mounter.bindDeviceFile(devicePath, lock).catch((error: unknown) => {
      throw mapError(
        volume,
        `blkUtil.MapDevice failed. devicePath: ${devicePath}, globalMapPath:${globalMapPath}, podUID: ${podUid}, bindMount: true`,
        error,
      );
    });
  if ((await readlink(podDeviceLink).catch(() => undefined)) !== devicePath) {
    try {
      await mkdir(dirname(podDeviceLink), { recursive: true, mode: 0o750 });
      await rm(podDeviceLink, { force: true });
      await symlink(devicePath, podDeviceLink);
    } catch (error) {
      throw mapError(
        volume,
        `blkUtil.MapDevice failed. devicePath: ${devicePath}, podVolumeMapPath:${dirname(podDeviceLink)}, volumeMapName: ${basename(podDeviceLink)}, bindMount: false`,
        error,
      );
    }
  }
  await mounter.attachFileDevice?.(lock).catch((error: unknown) => {
    throw mapError(
      volume,
      `blkUtil.AttachFileDevice failed. globalMapPath:${globalMapPath}, podUID: ${podUid}`,
      error,
    );
  });
}

/**
 * Upstream's UnmapBlockVolume: the loop device released, then the bind unmounted and its file
 * removed; what is gone already is skipped. The pod's link stays for the caller to remove once
 * its own unmap is done (CSI's NodeUnpublishVolume comes between), so a teardown that fails
 * midway is found again from the pod's directory.
 */
export async function unmapBlockVolume(
  mounter: Mounter,
  globalMapPath: string,
  podUid: string,
): Promise<void> {
  const lock = join(globalMapPath, podUid);
  await mounter.detachFileDevice?.(lock).catch((error: unknown) => {
    throw new Error(
      `blkUtil.DetachFileDevice failed. globalUnmapPath:${globalMapPath}, podUID: ${podUid}: ${(error as Error).message}`,
      { cause: error },
    );
  });
  if (await mounter.isMountPoint(lock)) await mounter.unmount(lock);
  await rm(lock, { force: true });
}
