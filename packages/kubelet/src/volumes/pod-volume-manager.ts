import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseQuantity } from '@nodeagent/primitives';
import type { Pod, Volume } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import { KubeletError, VolumeSetupError } from '../errors';
import { writeAtomically } from './atomic-writer';
import { podFSGroup, setVolumeOwnership } from './fs-group';
import { checkHostPath } from './host-path';
import { type Mounter, systemMounter } from './mounter';
import { type PayloadContext, volumePayload } from './volume-payloads';

/** Upstream plugin directory names under pods/<uid>/volumes/. */
export const volumePluginDirs = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

/** Where a {@link PodVolumeManager} keeps pod volumes and how it mounts them. */
export interface PodVolumeManagerOptions {
  /** --root-dir (default /var/lib/kubelet). */
  rootDir: string;
  /** Mounts the tmpfs of secret, downwardAPI and projected volumes (default {@link systemMounter}, needs root). */
  mounter?: Mounter;
  /** Names the timestamped payload directories of atomic updates (default: the wall clock). */
  now?: () => Date;
}

/**
 * Sets up and tears down a pod's volumes under <rootDir>/pods/<uid>/volumes, the way upstream
 * lays them out. Secret, downwardAPI and projected volumes live on tmpfs (never on disk);
 * payload volumes are rewritten atomically, so calling setUp again refreshes them in place.
 */
export class PodVolumeManager {
  private readonly rootDir: string;
  private readonly mounter: Mounter;
  private readonly now: () => Date;

  constructor(options: PodVolumeManagerOptions) {
    this.rootDir = options.rootDir;
    this.mounter = options.mounter ?? systemMounter;
    this.now = options.now ?? (() => new Date());
  }

  /** `<rootDir>/pods/<uid>`, the pod's directory. */
  podDir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }

  /** Where volume `name` of pod `uid` lives: `<rootDir>/pods/<uid>/volumes/<plugin dir>/<name>` ({@link volumePluginDirs}). */
  volumeDir(uid: string, plugin: keyof typeof volumePluginDirs, name: string): string {
    return join(this.podDir(uid), 'volumes', volumePluginDirs[plugin], name);
  }

  /** Sets up every volume of the pod; the first failure is thrown as VolumeSetupError naming the volume. */
  async setUp(pod: Pod, context: PayloadContext): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata.uid ?? '';
    const out = new Map<string, MountedVolume>();
    for (const volume of pod.spec.volumes ?? []) {
      try {
        out.set(volume.name, await this.setUpVolume(pod, uid, volume, context));
      } catch (error) {
        if (error instanceof KubeletError) {
          throw new VolumeSetupError(
            `spec.volumes[${volume.name}]`,
            error.value,
            `MountVolume.SetUp failed: ${error.message}`,
          );
        }
        throw error;
      }
    }
    return out;
  }

  private async setUpVolume(
    pod: Pod,
    uid: string,
    volume: Volume,
    context: PayloadContext,
  ): Promise<MountedVolume> {
    // Nothing on the node: the runtime mounts the image, pulled by the sync (upstream's image
    // volumes have no volume plugin directory either).
    if (volume.image) {
      const reference = volume.image.reference ?? '';
      return { hostPath: '', readOnly: true, image: { image: reference, userSpecifiedImage: reference } };
    }
    if (volume.hostPath) {
      await checkHostPath(volume.hostPath.path, volume.hostPath.type ?? '');
      return { hostPath: volume.hostPath.path };
    }
    if (volume.emptyDir) {
      const dir = this.volumeDir(uid, 'emptyDir', volume.name);
      await mkdir(dir, { recursive: true });
      if (volume.emptyDir.medium === 'Memory') {
        const size =
          volume.emptyDir.sizeLimit !== undefined
            ? parseQuantity(volume.emptyDir.sizeLimit, 'emptyDir.sizeLimit')
            : undefined;
        await this.ensureTmpfs(dir, size);
      }
      // Upstream makes emptyDir world-writable so any container user can use it.
      // Keep the setgid bit an fsGroup put there, so OnRootMismatch sees a matching root.
      await chmod(dir, ((await stat(dir)).mode & 0o7000) | 0o777);
      const group = podFSGroup(pod);
      if (group) await setVolumeOwnership(dir, group.fsGroup, { policy: group.policy });
      return { hostPath: dir };
    }
    const plugin = volume.configMap
      ? 'configMap'
      : volume.secret
        ? 'secret'
        : volume.downwardAPI
          ? 'downwardAPI'
          : volume.projected
            ? 'projected'
            : undefined;
    if (!plugin)
      throw new VolumeSetupError(`spec.volumes[${volume.name}]`, volume, 'unsupported volume type');
    const payload = await volumePayload(pod, volume, context);
    const dir = this.volumeDir(uid, plugin, volume.name);
    await mkdir(dir, { recursive: true });
    if (plugin !== 'configMap') await this.ensureTmpfs(dir);
    const changed = await writeAtomically(dir, payload!, this.now());
    // Like upstream, ownership is applied whenever the payload was (re)written: new files start root-owned.
    const group = podFSGroup(pod);
    if (group && changed) await setVolumeOwnership(dir, group.fsGroup, { readOnly: true });
    return { hostPath: dir, readOnly: true };
  }

  private async ensureTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    if (!(await this.mounter.isMountPoint(dir))) await this.mounter.mountTmpfs(dir, sizeBytes);
  }

  /** Unmounts tmpfs volumes and removes the pod's directory. */
  async tearDown(uid: string): Promise<void> {
    const volumesDir = join(this.podDir(uid), 'volumes');
    const plugins = await readdir(volumesDir).catch(() => [] as string[]);
    for (const plugin of plugins) {
      for (const name of await readdir(join(volumesDir, plugin)).catch(() => [] as string[])) {
        const dir = join(volumesDir, plugin, name);
        if (await this.mounter.isMountPoint(dir)) await this.mounter.unmount(dir);
      }
    }
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}
