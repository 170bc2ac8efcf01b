import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeletLogger } from '../../kubelet-logger';
import { podDirectories, podVolumeDevicesDir } from '../../pod-dirs';
import { CSI_POD_VOLUME_DIR, csiPodVolumeDir, csiPodVolumesDir } from './csi-volume-paths';
import { type CsiVolumes, readVolData, type VolData } from './csi-volumes';

/** One CSI volume found under `<root>/pods/<uid>/volumes/kubernetes.io~csi/<name>`. */
interface PodCsiVolume {
  podUid: string;
  name: string;
  data: VolData;
}

/**
 * What the pods' directories hold of CSI (upstream getVolumesFromPodDir, CSI's share), in one
 * pass over `podUids`: every pod CSI volume that has its vol_data.json, and the pods with CSI
 * block volume links (`pods/<uid>/volumeDevices/kubernetes.io~csi/<pv>`; a block volume's
 * vol_data.json sits with its device paths, csi-block-volumes.ts, which its teardown reads).
 */
async function csiVolumesOnDisk(
  rootDir: string,
  podUids: readonly string[],
): Promise<{ volumes: PodCsiVolume[]; blockPods: string[] }> {
  const volumes: PodCsiVolume[] = [];
  const blockPods: string[] = [];
  for (const podUid of podUids) {
    const dir = csiPodVolumesDir(rootDir, podUid);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const data = await readVolData(join(dir, name));
      if (data) volumes.push({ podUid, name, data });
    }
    const links = await readdir(join(podVolumeDevicesDir(rootDir, podUid), CSI_POD_VOLUME_DIR)).catch(
      () => [] as string[],
    );
    if (links.length > 0) blockPods.push(podUid);
  }
  return { volumes, blockPods };
}

/**
 * Upstream's volume reconstruction after a kubelet restart (reconstruct_new.go), for CSI volumes:
 * at start the pods' CSI volume directories are read; a volume whose `mount` is still a mount
 * point is taken back into the kubelet's state (in use, its staging this pod's), one that is not
 * failed reconstruction. Once the pod sources are ready, the volumes of pods no longer there are
 * torn down: a reconstructed one unpublished and, when nothing else uses it, unstaged; one that
 * failed reconstruction only unpublished (upstream's cleanupMounts). A pod gone with block volumes
 * mapped has them unmapped, unpublished and, when nothing else uses them, unstaged. Pods still
 * there keep theirs.
 */
export class CsiReconstruction {
  private reconstructed: PodCsiVolume[] = [];
  private failed: PodCsiVolume[] = [];
  /** Pods found with CSI block volumes mapped (their links under `volumeDevices`). */
  private blockPods: string[] = [];

  constructor(
    private readonly csi: CsiVolumes,
    private readonly rootDir: string,
    private readonly isMountPoint: (path: string) => Promise<boolean>,
    private readonly logger: KubeletLogger,
  ) {}

  /**
   * Reads the disk (upstream reconstructVolumes) of the pods `podUids` (default: every directory
   * under `pods/`); call once, before pods are synced.
   */
  async reconstruct(podUids?: readonly string[]): Promise<void> {
    const onDisk = await csiVolumesOnDisk(this.rootDir, podUids ?? (await podDirectories(this.rootDir)));
    for (const volume of onDisk.volumes) {
      const mount = join(csiPodVolumeDir(this.rootDir, volume.podUid, volume.name), 'mount');
      if (await this.isMountPoint(mount).catch(() => false)) {
        this.csi.adopt(volume.podUid, volume.name, volume.data);
        this.reconstructed.push(volume);
        continue;
      }
      this.logger.info(
        {
          podName: volume.podUid,
          volumeSpecName: volume.name,
          err: `volume: "kubernetes.io/csi/${volume.data.driverName}^${volume.data.volumeHandle}" is not mounted`,
        },
        'Could not construct volume information',
      );
      this.failed.push(volume);
    }
    this.blockPods = onDisk.blockPods;
    this.logger.info({}, 'Volume reconstruction finished');
  }

  /**
   * The pod sources are ready: the volumes of pods `isPodKnown` does not know are torn down. A
   * teardown that fails is kept and tried again on the next call.
   */
  async cleanUp(isPodKnown: (uid: string) => boolean): Promise<void> {
    const failed: PodCsiVolume[] = [];
    for (const volume of this.failed) {
      if (isPodKnown(volume.podUid)) continue;
      this.logger.info(
        { podName: volume.podUid, volumeSpecName: volume.name },
        'Cleaning up mounts for volume that could not be reconstructed',
      );
      await this.csi.unpublish(volume.podUid, volume.name, volume.data).catch((error: unknown) => {
        this.logger.error(
          { err: String(error) },
          'volumeHandler.UnmountVolumeHandler for UnmountVolume failed',
        );
        failed.push(volume);
      });
    }
    this.failed = failed;
    const reconstructed: PodCsiVolume[] = [];
    const blockPods: string[] = [];
    const gone = new Set(
      [...this.reconstructed.map((v) => v.podUid), ...this.blockPods].filter((uid) => !isPodKnown(uid)),
    );
    for (const uid of gone) {
      await this.csi.tearDownPod(uid).catch((error: unknown) => {
        this.logger.error({ podUID: uid, err: String(error) }, 'Failed to tear down a reconstructed volume');
        reconstructed.push(...this.reconstructed.filter((v) => v.podUid === uid));
        if (this.blockPods.includes(uid)) blockPods.push(uid);
      });
    }
    this.reconstructed = reconstructed;
    this.blockPods = blockPods;
  }
}
