import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeletLogger } from '../../kubelet-logger';
import { podsDir } from '../../pod-dirs';
import { csiPodVolumeDir, csiPodVolumesDir } from './csi-volume-paths';
import { type CsiVolumes, readVolData, type VolData } from './csi-volumes';

/** One CSI volume found under `<root>/pods/<uid>/volumes/kubernetes.io~csi/<name>`. */
interface PodCsiVolume {
  podUid: string;
  name: string;
  data: VolData;
}

/** Every pod CSI volume on disk that has its vol_data.json (upstream getVolumesFromPodDir, CSI's share). */
async function csiVolumesOnDisk(rootDir: string): Promise<PodCsiVolume[]> {
  const out: PodCsiVolume[] = [];
  for (const podUid of await readdir(podsDir(rootDir)).catch(() => [] as string[])) {
    const dir = csiPodVolumesDir(rootDir, podUid);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const data = await readVolData(join(dir, name));
      if (data) out.push({ podUid, name, data });
    }
  }
  return out;
}

/**
 * Upstream's volume reconstruction after a kubelet restart (reconstruct_new.go), for CSI volumes:
 * at start the pods' CSI volume directories are read; a volume whose `mount` is still a mount
 * point is taken back into the kubelet's state (in use, its staging this pod's), one that is not
 * failed reconstruction. Once the pod sources are ready, the volumes of pods no longer there are
 * torn down: a reconstructed one unpublished and, when nothing else uses it, unstaged; one that
 * failed reconstruction only unpublished (upstream's cleanupMounts). Pods still there keep theirs.
 */
export class CsiReconstruction {
  private reconstructed: PodCsiVolume[] = [];
  private failed: PodCsiVolume[] = [];

  constructor(
    private readonly csi: CsiVolumes,
    private readonly rootDir: string,
    private readonly isMountPoint: (path: string) => Promise<boolean>,
    private readonly logger: KubeletLogger,
  ) {}

  /** Reads the disk (upstream reconstructVolumes); call once, before pods are synced. */
  async reconstruct(): Promise<void> {
    for (const volume of await csiVolumesOnDisk(this.rootDir)) {
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
    const gone = new Set(this.reconstructed.filter((v) => !isPodKnown(v.podUid)).map((v) => v.podUid));
    for (const uid of gone) {
      await this.csi.tearDownPod(uid).catch((error: unknown) => {
        this.logger.error({ podUID: uid, err: String(error) }, 'Failed to tear down a reconstructed volume');
        reconstructed.push(...this.reconstructed.filter((v) => v.podUid === uid));
      });
    }
    this.reconstructed = reconstructed;
  }
}
