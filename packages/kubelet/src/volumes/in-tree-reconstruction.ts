import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeletLogger } from '../kubelet-logger';
import { podDirectories, podVolumesDir } from '../pod-dirs';
import { CSI_POD_VOLUME_DIR } from './csi/csi-volume-paths';
import { type FlexVolumes, isFlexPluginDirectory } from './flex/flex-volumes';
import { unmountUnusedLocalDevices } from './local-volumes';
import type { Mounter } from './mounter';
import { removeAllOneFilesystem } from './remove-all-one-filesystem';
import { volumePluginDirs } from './volume-plugin-dirs';

/**
 * The plugin directories whose volumes are emptyDir's or built on it (upstream's secret,
 * configMap, downwardAPI and projected unmounters are emptyDir's): their teardown removes what
 * they hold.
 */
const EMPTY_DIR_BASED = new Set<string>([
  volumePluginDirs.emptyDir,
  volumePluginDirs.configMap,
  volumePluginDirs.secret,
  volumePluginDirs.downwardAPI,
  volumePluginDirs.projected,
]);

/** The plugin directories whose teardown is an unmount and the directory's removal (upstream CleanupMountPoint). */
const MOUNT_POINTS = new Set<string>([volumePluginDirs.local, volumePluginDirs.nfs]);

/** One volume directory found at start: `<root>/pods/<uid>/volumes/<plugin>/<name>`. */
interface PodVolumeOnDisk {
  podUid: string;
  plugin: string;
  name: string;
  dir: string;
}

/**
 * Upstream's volume reconstruction after a kubelet restart (reconstruct_new.go) for the volumes
 * this kubelet mounts itself: emptyDir and the volumes built on it, local and nfs volumes, and
 * FlexVolume ones (CSI volumes have csi-reconstruction.ts). Their directories are read at start;
 * once the pod sources are ready, those of pods the kubelet does not have (deleted while it was
 * down) are torn down as upstream's reconciler and cleanupMounts tear them down: unmounted when
 * mounted (a FlexVolume by its driver), then an emptyDir-based one removed with what it holds (a
 * tmpfs's files went with the unmount), a local or nfs one removed when empty. That lets the
 * orphaned pod directory go (orphaned-pod-dirs.ts), where before a Secret's tmpfs or an emptyDir
 * with files kept it for ever. A pod still there tears its own volumes down when it ends.
 */
export class InTreeReconstruction {
  private found: PodVolumeOnDisk[] = [];
  private firstCleanUp = true;

  constructor(
    private readonly rootDir: string,
    private readonly mounter: Mounter,
    private readonly flex: Pick<FlexVolumes, 'tearDown'> | undefined,
    private readonly logger: KubeletLogger,
  ) {}

  /**
   * Reads the disk (upstream getVolumesFromPodDir) of the pods `podUids` (default: every
   * directory under `pods/`); call once, before pods are synced.
   */
  async reconstruct(podUids?: readonly string[]): Promise<void> {
    const found: PodVolumeOnDisk[] = [];
    for (const podUid of podUids ?? (await podDirectories(this.rootDir))) {
      const volumes = podVolumesDir(this.rootDir, podUid);
      for (const plugin of await readdir(volumes).catch(() => [] as string[])) {
        if (!this.hasPlugin(plugin)) continue;
        for (const name of await readdir(join(volumes, plugin)).catch(() => [] as string[]))
          found.push({ podUid, plugin, name, dir: join(volumes, plugin, name) });
      }
    }
    this.found = found;
  }

  /**
   * The pod sources are ready: the volumes of pods `isPodKnown` does not know are torn down; a
   * known pod's are forgotten here, left to its own teardown when it ends. A teardown that fails
   * is logged and tried again on the next call.
   */
  async cleanUp(isPodKnown: (uid: string) => boolean): Promise<void> {
    const failed: PodVolumeOnDisk[] = [];
    // The first time, and after a local volume's teardown: a local disk mounted for pods that are all gone goes too.
    let localDevicesToCheck = this.firstCleanUp;
    this.firstCleanUp = false;
    for (const volume of this.found) {
      if (isPodKnown(volume.podUid)) continue;
      try {
        await this.tearDown(volume);
        if (volume.plugin === volumePluginDirs.local) localDevicesToCheck = true;
        this.logger.info(
          { podUID: volume.podUid, volumeName: volume.name, pluginName: pluginName(volume.plugin) },
          'UnmountVolume.TearDown succeeded for volume',
        );
      } catch (error) {
        this.logger.error(
          { podUID: volume.podUid, volumeName: volume.name, err: String(error) },
          'volumeHandler.UnmountVolumeHandler for UnmountVolume failed',
        );
        failed.push(volume);
      }
    }
    this.found = failed;
    if (localDevicesToCheck) await unmountUnusedLocalDevices(this.rootDir, this.mounter);
  }

  private hasPlugin(plugin: string): boolean {
    if (plugin === CSI_POD_VOLUME_DIR) return false;
    if (isFlexPluginDirectory(plugin)) return this.flex !== undefined;
    return EMPTY_DIR_BASED.has(plugin) || MOUNT_POINTS.has(plugin);
  }

  private async tearDown(volume: PodVolumeOnDisk): Promise<void> {
    const { dir, plugin } = volume;
    if (this.flex && isFlexPluginDirectory(plugin)) return this.flex.tearDown(plugin, dir);
    if (await this.mounter.isMountPoint(dir).catch(() => false)) await this.mounter.unmount(dir);
    if (EMPTY_DIR_BASED.has(plugin))
      await removeAllOneFilesystem(dir, (path) => this.mounter.isMountPoint(path));
    else
      await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
  }
}

/** `kubernetes.io~secret` → `kubernetes.io/secret` (upstream's plugin names escape `/` as `~`). */
function pluginName(directory: string): string {
  return directory.replace('~', '/');
}
