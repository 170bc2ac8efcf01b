import { lstat, mkdir, readdir, realpath, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import { podDirectories, podVolumeDevicesDir, podVolumesDir } from '../pod-dirs';
import { CsiVolumeOperationError } from './csi/csi-operation-error';
import type { PersistentVolumeObject } from './csi/csi-storage-objects';
import { podFSGroup, setVolumeOwnership } from './fs-group';
import { goErrnoText } from './go-errno';
import { mapBlockVolume, unmapBlockVolume } from './map-block-volume';
import { mountOptionsFromPV } from './mount-options';
import type { Mounter } from './mounter';
import { volumePluginDirs } from './volume-plugin-dirs';

/** Upstream's local plugin's filesystem type for a disk whose PersistentVolume names none. */
const DEFAULT_FS_TYPE = 'ext4';

/** What a local volume's set-up needs of the kubelet. */
export interface LocalVolumeHost {
  rootDir: string;
  /** `<rootDir>/pods/<uid>/volumes/<plugin>/<name>` for the pod. */
  volumeDir(plugin: string, name: string): string;
  mounter: Mounter;
}

/** A claim's local PersistentVolume, its name and whether the pod's claim is read-only. */
export interface LocalClaim {
  pv: PersistentVolumeObject;
  pvName: string;
  readOnly: boolean;
}

/** `<root>/plugins/kubernetes.io~local-volume/<sub>`: the local plugin's own directory (GetPluginDir). */
function localPluginDir(rootDir: string, sub: string): string {
  return join(rootDir, 'plugins', volumePluginDirs.local, sub);
}

/** Upstream's GetDeviceMountPath: where a local disk's filesystem is mounted once for every pod, `mounts/<pv>`. */
export function localDeviceMountPath(rootDir: string, pvName: string): string {
  return join(localPluginDir(rootDir, 'mounts'), pvName);
}

/**
 * Upstream's local volume SetUpAt (with MountDevice before it for a disk): a directory is
 * bind-mounted on the pod's volume directory as it is; a block device is first formatted when it
 * has no filesystem (the PersistentVolume's `fsType`, ext4 by default) and mounted once at
 * `plugins/kubernetes.io~local-volume/mounts/<pv>`, which is bind-mounted in its place. Each bind
 * is read-only for a read-only claim and carries the PersistentVolume's mount options; the pod's
 * fsGroup is applied when it is writable. Any other kind of path is refused, as upstream's.
 */
export async function setUpLocal(pod: Pod, claim: LocalClaim, host: LocalVolumeHost): Promise<MountedVolume> {
  const { pv, pvName, readOnly } = claim;
  const path = pv.spec?.local?.path ?? '';
  if (path === '') throw new Error(`LocalVolume volume ${JSON.stringify(pvName)} path is empty`);
  const dir = host.volumeDir(volumePluginDirs.local, pvName);
  if (await host.mounter.isMountPoint(dir)) return { hostPath: dir, readOnly };
  const source = await localBindSource(claim, path, host);
  if (!host.mounter.bindMount)
    throw new Error(
      `local volume ${JSON.stringify(pvName)} needs a bind mount, which this kubelet's mounter does not make`,
    );
  await mkdir(dir, { recursive: true, mode: 0o750 });
  try {
    await host.mounter.bindMount(source, dir, readOnly, mountOptionsFromPV(pv));
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    throw error;
  }
  const fsGroup = podFSGroup(pod);
  if (!readOnly && fsGroup) await setVolumeOwnership(dir, fsGroup.fsGroup, { policy: fsGroup.policy });
  return { hostPath: dir, readOnly };
}

/**
 * What the pod's bind mount is made from (upstream's getGlobalLocalPath): the directory itself,
 * or a block device's mount (MountDevice, made here when missing). A path upstream's NewMounter
 * cannot type fails as `MountVolume.NewMounter initialization failed`.
 */
async function localBindSource(claim: LocalClaim, path: string, host: LocalVolumeHost): Promise<string> {
  const { pvName } = claim;
  const info = await stat(path).catch((error: unknown) => {
    throw new CsiVolumeOperationError(
      'MountVolume.NewMounter initialization',
      pvName,
      `stat ${path}: ${goErrnoText(error)}`,
      false,
    );
  });
  if (info.isDirectory()) return path;
  if (!info.isBlockDevice())
    throw new CsiVolumeOperationError(
      'MountVolume.NewMounter initialization',
      pvName,
      'only directory and block device are supported',
      false,
    );
  const global = localDeviceMountPath(host.rootDir, pvName);
  if (await host.mounter.isMountPoint(global)) return global;
  const fsType = claim.pv.spec?.local?.fsType ?? DEFAULT_FS_TYPE;
  const failed = (message: string) =>
    new CsiVolumeOperationError(
      'MountVolume.MountDevice',
      pvName,
      `local: failed to mount device ${path} at ${global} (fstype: ${fsType}), error ${message}`,
      false,
    );
  if (!host.mounter.formatAndMount) throw failed("this kubelet's mounter does not format and mount disks");
  await mkdir(global, { recursive: true, mode: 0o750 });
  try {
    await host.mounter.formatAndMount(
      path,
      global,
      fsType,
      mountOptionsFromPV(claim.pv, ...(claim.readOnly ? ['ro'] : [])),
    );
  } catch (error) {
    await rmdir(global).catch(() => undefined);
    throw failed((error as Error).message);
  }
  return global;
}

/**
 * Upstream's UnmountDevice for local disks: each mount under `plugins/kubernetes.io~local-volume/mounts`
 * that no pod's volume directory binds any more is unmounted and its directory removed. Run after
 * a pod's local volumes are torn down, and after a restart once the pods that are gone have had
 * theirs torn down (in-tree-reconstruction.ts).
 */
export async function unmountUnusedLocalDevices(rootDir: string, mounter: Mounter): Promise<void> {
  const mounts = localPluginDir(rootDir, 'mounts');
  const names = await readdir(mounts).catch(() => [] as string[]);
  if (names.length === 0) return;
  const pods = await podDirectories(rootDir);
  for (const name of names) {
    const global = join(mounts, name);
    let used = false;
    for (const uid of pods) {
      const bind = join(podVolumesDir(rootDir, uid), volumePluginDirs.local, name);
      // Only a pod of this volume has its directory: the mount table is read for those alone.
      if ((await lstat(bind).catch(() => undefined)) && (await mounter.isMountPoint(bind))) {
        used = true;
        break;
      }
    }
    if (used) continue;
    if (await mounter.isMountPoint(global)) await mounter.unmount(global);
    await rmdir(global).catch(() => undefined);
  }
}

/** Upstream's GetGlobalMapPath of a local Block volume: `plugins/kubernetes.io~local-volume/volumeDevices/<pv>`. */
function localGlobalMapPath(rootDir: string, pvName: string): string {
  return join(localPluginDir(rootDir, 'volumeDevices'), pvName);
}

/** The pod's link to a local Block volume: `pods/<uid>/volumeDevices/kubernetes.io~local-volume/<pv>`. */
function localPodDeviceLink(rootDir: string, uid: string, pvName: string): string {
  return join(podVolumeDevicesDir(rootDir, uid), volumePluginDirs.local, pvName);
}

/**
 * Upstream's local BlockVolumeMapper with MapBlockVolume (map-block-volume.ts): the
 * PersistentVolume's path (a block device, its symlinks resolved) bound on
 * `plugins/kubernetes.io~local-volume/volumeDevices/<pv>/<pod uid>` and held open there by a loop
 * device, and linked at `pods/<uid>/volumeDevices/kubernetes.io~local-volume/<pv>`, which the
 * runtime gets as the container's device (CRI Device; it resolves the link).
 */
export async function mapLocal(
  pod: Pod,
  claim: LocalClaim & { path: string },
  host: Pick<LocalVolumeHost, 'rootDir' | 'mounter'>,
): Promise<MountedVolume> {
  const { path, pvName, readOnly } = claim;
  const uid = pod.metadata.uid ?? '';
  if (path === '') throw new Error(`LocalVolume volume ${JSON.stringify(pvName)} path is empty`);
  const globalMapPath = localGlobalMapPath(host.rootDir, pvName);
  if (!(await lstat(path).catch(() => undefined)))
    throw new CsiVolumeOperationError(
      'MapVolume.MapBlockVolume',
      pvName,
      `blkUtil.MapDevice failed. devicePath: ${path}, globalMapPath:${globalMapPath}, podUID: ${uid}, bindMount: true: stat ${path}: no such file or directory`,
      false,
    );
  const podDeviceLink = localPodDeviceLink(host.rootDir, uid, pvName);
  await mapBlockVolume(
    host.mounter,
    { devicePath: await realpath(path), globalMapPath, podUid: uid, podDeviceLink },
    pvName,
  );
  return { hostPath: podDeviceLink, readOnly, block: true };
}

/** UnmapBlockVolume of each local Block volume of pod `uid`: its loop device and bind released, its link removed. */
export async function unmapLocalBlockVolumes(rootDir: string, uid: string, mounter: Mounter): Promise<void> {
  const dir = join(podVolumeDevicesDir(rootDir, uid), volumePluginDirs.local);
  for (const pvName of await readdir(dir).catch(() => [] as string[])) {
    await unmapBlockVolume(mounter, localGlobalMapPath(rootDir, pvName), uid);
    await rm(localPodDeviceLink(rootDir, uid, pvName), { force: true });
  }
}
