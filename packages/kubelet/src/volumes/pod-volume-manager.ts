import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseQuantity } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { Pod, Volume } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import { KubeletError, VolumeSetupError } from '../errors';
import type { KubeletLogger } from '../kubelet-logger';
import { podDir, podDirectories, podVolumesDir } from '../pod-dirs';
import { removeTree } from '../remove-tree';
import { writeAtomically } from './atomic-writer';
import { AttachAndMountWaits } from './attach-and-mount-wait';
import { CsiVolumeOperationError } from './csi/csi-operation-error';
import { CsiReconstruction } from './csi/csi-reconstruction';
import { VolumeNotAttachedError } from './csi/csi-verify-attached';
import type { CsiVolumeUsage } from './csi/csi-volume-stats';
import type { ClaimVolumeStats, CsiVolumes } from './csi/csi-volumes';
import { isMigratedInline } from './csi/migration/migrated-volumes';
import { execFlexRunner, type FlexRunner } from './flex/flex-driver-call';
import { FlexDrivers } from './flex/flex-drivers';
import { FlexVolumes, flexPluginDirectory, inlineFlexSpec, isFlexPluginDirectory } from './flex/flex-volumes';
import { podFSGroup, setVolumeOwnership } from './fs-group';
import { checkHostPath } from './host-path';
import { setUpInTreeClaim } from './in-tree-claims';
import { InTreeReconstruction } from './in-tree-reconstruction';
import { unmapLocalBlockVolumes, unmountUnusedLocalDevices } from './local-volumes';
import { MeasuredClaims } from './measured-claims';
import { MountBackOff, mountKey } from './mount-backoff';
import { type Mounter, systemMounter } from './mounter';
import { mountNfs, type NfsMounter, systemNfsMounter } from './nfs-mount';
import { OrphanedPodDirs } from './orphaned-pod-dirs';
import { type PayloadContext, volumePayload } from './volume-payloads';
import { volumePluginDirs } from './volume-plugin-dirs';
import {
  csiDriverMissingMessage,
  noPluginMessage,
  volumeSourceHandling,
  volumeSources,
} from './volume-sources';
import {
  PodVolumesNotReadyError,
  unableToMountMessage,
  VolumeAttachLimitExceededError,
} from './volumes-not-ready';

export { volumePluginDirs };

/** Where a {@link PodVolumeManager} keeps pod volumes and how it mounts them. */
export interface PodVolumeManagerOptions {
  /** --root-dir (default /var/lib/kubelet). */
  rootDir: string;
  /** Mounts the tmpfs of secret, downwardAPI and projected volumes (default {@link systemMounter}, needs root). */
  mounter?: Mounter;
  /** Names the timestamped payload directories of atomic updates and times mount back-offs (default: the wall clock). */
  now?: () => Date;
  /** Runs the mount(8) of nfs volumes where that is safe (default {@link systemNfsMounter}). */
  nfs?: NfsMounter;
  /**
   * Inline CSI volumes and claims bound to CSI PersistentVolumes, through the registered drivers.
   * None: a CSI volume waits as upstream's does for a driver that never registers, and a claim
   * fails its set-up.
   */
  csi?: CsiVolumes;
  /**
   * KubeletConfiguration volumePluginDir: flexVolume volumes through the drivers installed there
   * (flex/). None: a flexVolume matches no plugin, as upstream's without its driver installed.
   */
  volumePluginDir?: string;
  /** Runs the FlexVolume drivers (default: exec of the driver executable). */
  flexRunner?: FlexRunner;
  /** Where reconstruction and orphaned pod directories are logged (default: nowhere). */
  logger?: KubeletLogger;
  /** Where kubelet_orphan_pod_cleaned_volumes{,_errors} are registered (default: none). */
  registry?: Registry;
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
  private readonly nfs: NfsMounter;
  private readonly backOff = new MountBackOff();
  private readonly waits = new AttachAndMountWaits();
  private readonly csi: CsiVolumes | undefined;
  private readonly flex: FlexVolumes | undefined;
  private readonly reconstruction: CsiReconstruction | undefined;
  private readonly inTreeReconstruction: InTreeReconstruction;
  private readonly orphans: OrphanedPodDirs;
  /**
   * Pods whose directory tearDown removed, until forgetPod: a later tearDown (the cleanup calls
   * it again) returns at once, since looking the removed directory up would put its name back in
   * the kernel's dentry cache (removeTree).
   */
  private readonly removed = new Set<string>();
  /** Claims on local and nfs PersistentVolumes set up here: statfs, or a local Block volume's device size. */
  private readonly measuredClaims = new MeasuredClaims();

  constructor(options: PodVolumeManagerOptions) {
    this.csi = options.csi;
    const logger = options.logger ?? { info() {}, warn() {}, error() {} };
    const isMountPoint = (path: string) => (options.mounter ?? systemMounter).isMountPoint(path);
    this.reconstruction = options.csi
      ? new CsiReconstruction(options.csi, options.rootDir, isMountPoint, logger)
      : undefined;
    this.orphans = new OrphanedPodDirs({
      rootDir: options.rootDir,
      isMountPoint,
      podVolumesHeld: (uid) => this.csi?.holdsPod(uid) ?? false,
      logger,
      registry: options.registry,
    });
    this.rootDir = options.rootDir;
    this.mounter = options.mounter ?? systemMounter;
    this.now = options.now ?? (() => new Date());
    this.nfs = options.nfs ?? systemNfsMounter;
    this.flex =
      options.volumePluginDir === undefined
        ? undefined
        : flexVolumes(options.volumePluginDir, options.flexRunner ?? execFlexRunner, this.mounter, logger);
    this.inTreeReconstruction = new InTreeReconstruction(this.rootDir, this.mounter, this.flex, logger);
  }

  /** The attachable volumes in use for node.status.volumesInUse (CSI claims' volumes). */
  volumesInUse(): string[] {
    return this.csi?.volumesInUse() ?? [];
  }

  /** Upstream's InitPlugins at start: FlexVolume's driver directory made when missing. */
  async initPlugins(): Promise<void> {
    await this.flex?.init();
  }

  /**
   * After a restart, before pods sync: the CSI volumes mounted on disk are taken back
   * (csi-reconstruction.ts), and the other volume directories noted (in-tree-reconstruction.ts).
   */
  async reconstruct(): Promise<void> {
    // The pods directory is listed once for both.
    const podUids = await podDirectories(this.rootDir);
    await this.reconstruction?.reconstruct(podUids);
    await this.inTreeReconstruction.reconstruct(podUids);
  }

  /**
   * Housekeeping once the pod sources are ready: reconstructed volumes of pods the kubelet no
   * longer has (`pods`, upstream's desired state) are torn down, then the directories of pods
   * neither there nor in the runtime (`runtimePods`) are removed (orphaned-pod-dirs.ts).
   */
  async cleanUpOrphans(pods: ReadonlySet<string>, runtimePods: ReadonlySet<string>): Promise<void> {
    await this.reconstruction?.cleanUp((uid) => pods.has(uid));
    await this.inTreeReconstruction.cleanUp((uid) => pods.has(uid));
    await this.orphans.sweep(new Set([...pods, ...runtimePods]));
  }

  /**
   * The pod's volumes measured on their own, by the pod's volume name (the summary's): CSI volumes
   * as their drivers measure them, claims on local and nfs PersistentVolumes by statfs, a local
   * Block one by its device's size.
   */
  async csiVolumeStats(uid: string): Promise<Map<string, CsiVolumeUsage>> {
    const out = this.csi ? await this.csi.podVolumeStats(uid) : new Map<string, CsiVolumeUsage>();
    for (const [name, usage] of await this.measuredClaims.podStats(uid)) out.set(name, usage);
    return out;
  }

  /** Each claim's volume measured here, once per claim (kubelet_volume_stats_*): CSI's, then local and nfs ones. */
  async claimVolumeStats(): Promise<ClaimVolumeStats[]> {
    const csi = this.csi ? await this.csi.claimVolumeStats() : [];
    const seen = new Set(csi.map((c) => `${c.namespace}/${c.claim}`));
    return [...csi, ...(await this.measuredClaims.claimStats(seen))];
  }

  /** Where volume `name` of pod `uid` lives: `<rootDir>/pods/<uid>/volumes/<plugin dir>/<name>` ({@link volumePluginDirs}). */
  volumeDir(uid: string, plugin: keyof typeof volumePluginDirs, name: string): string {
    return join(podVolumesDir(this.rootDir, uid), volumePluginDirs[plugin], name);
  }

  /**
   * Sets up every volume of the pod. A volume of a source this kubelet has a plugin for that
   * fails is thrown at once as a VolumeSetupError naming it. Volumes of the other sources that a
   * container mounts are handled as upstream's volume manager does when the host cannot provide
   * them (see volume-sources.ts), and leave the pod waiting: a PodVolumesNotReadyError with the
   * FailedMount messages of this try and when to try again.
   */
  async setUp(pod: Pod, context: PayloadContext): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata.uid ?? '';
    this.removed.delete(uid);
    const out = new Map<string, MountedVolume>();
    const used = mountedVolumeNames(pod);
    const unmounted: string[] = [];
    const unattached: string[] = [];
    const notProcessed: string[] = [];
    const processErrors: string[] = [];
    const mountFailures: string[] = [];
    // Through a CSI driver and not attached yet: what an exhausted attach limit would explain.
    const unattachedViaCsi: Volume[] = [];
    let retryAfterMs: number | undefined;
    for (const volume of pod.spec.volumes ?? []) {
      const [source] = volumeSources(volume);
      const handling = source ? volumeSourceHandling(source) : 'plugin';
      // A claim (a generic ephemeral volume's too) is mounted by the CSI plugin when CSI volumes are set up here.
      const viaCsi =
        this.csi !== undefined &&
        (handling === 'csi' ||
          handling === 'migrated' ||
          source === 'persistentVolumeClaim' ||
          source === 'ephemeral');
      if (!viaCsi && (handling === 'plugin' || handling === 'refused')) {
        out.set(volume.name, await this.setUpPluginVolume(pod, uid, volume, context));
        continue;
      }
      // Upstream's populator and reconciler only take volumes a container uses.
      if (!used.has(volume.name)) continue;
      unmounted.push(volume.name);
      // A flexVolume matches a plugin once its driver is installed under volumePluginDir.
      const flex =
        source === 'flexVolume' &&
        this.flex !== undefined &&
        (await this.flex.hasDriver(inlineFlexSpec(volume).source.driver));
      if (handling === 'noPlugin' && !flex) {
        notProcessed.push(volume.name);
        processErrors.push(noPluginMessage(volume.name));
      } else if (handling === 'attach' || (handling === 'migrated' && !viaCsi)) {
        unattached.push(volume.name);
      } else {
        const attempt = await this.mountWithBackOff(pod, uid, volume, context);
        if (attempt.mounted) {
          out.set(volume.name, attempt.mounted);
          unmounted.pop();
          continue;
        }
        if (attempt.unattached) {
          unattached.push(volume.name);
          unattachedViaCsi.push(volume);
        }
        if (attempt.failure) mountFailures.push(attempt.failure);
        retryAfterMs = Math.min(retryAfterMs ?? attempt.retryAfterMs, attempt.retryAfterMs);
      }
    }
    if (unmounted.length === 0) {
      this.waits.done(uid);
      return out;
    }
    // Upstream's wait timing out: a volume left unattached for want of an attach slot rejects the pod.
    if (this.waits.timedOut(uid, this.now().getTime()))
      for (const volume of unattachedViaCsi)
        if (await this.csi?.attachLimitExhausted(pod, volume))
          throw new VolumeAttachLimitExceededError(unmounted, unattached, notProcessed);
    // Upstream posts each failed mount as the reconciler tries it, then the pod sync's own event
    // when its wait ends with volumes it could not process (a wait that timed out posts nothing).
    const events = [...mountFailures];
    if (processErrors.length > 0)
      events.push(unableToMountMessage(unmounted, unattached, notProcessed, processErrors));
    throw new PodVolumesNotReadyError(unmounted, events, retryAfterMs);
  }

  /** A volume of a source with a plugin here; a failure is a VolumeSetupError naming the volume. */
  private async setUpPluginVolume(
    pod: Pod,
    uid: string,
    volume: Volume,
    context: PayloadContext,
  ): Promise<MountedVolume> {
    try {
      return await this.setUpVolume(pod, uid, volume, context);
    } catch (error) {
      if (error instanceof KubeletError) {
        // The cause stays readable: the sync retries some (a late object watch) sooner.
        throw Object.assign(
          new VolumeSetupError(
            `spec.volumes[${volume.name}]`,
            error.value,
            `MountVolume.SetUp failed: ${error.message}`,
          ),
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Tries a csi or nfs volume unless its mount back-off holds it: the mount, or this try's
   * FailedMount message (none inside the back-off) and how long until the next try.
   */
  private async mountWithBackOff(
    pod: Pod,
    uid: string,
    volume: Volume,
    context: PayloadContext,
  ): Promise<{ mounted?: MountedVolume; failure?: string; unattached?: boolean; retryAfterMs: number }> {
    const key = mountKey(uid, volume.name);
    const now = this.now().getTime();
    if (this.backOff.remainingMs(key, now) > 0)
      return { retryAfterMs: this.backOff.remainingMs(key, now), unattached: this.backOff.unattached(key) };
    try {
      const mounted = await this.mountExternal(pod, uid, volume, context);
      this.backOff.succeeded(key);
      return { mounted, retryAfterMs: 0 };
    } catch (error) {
      const unattached = error instanceof VolumeNotAttachedError;
      this.backOff.failed(key, now, unattached);
      const retryAfterMs = this.backOff.remainingMs(key, now);
      // Not attached yet: upstream's reconciler logs it and tries again, posting no event.
      if (unattached) return { unattached, retryAfterMs };
      // An expansion during the mount fails it in upstream's own words (MountVolume.Setup failed while expanding...).
      const expanding = (error as { code?: unknown }).code === 'ExpandDuringMount';
      const failure =
        error instanceof CsiVolumeOperationError
          ? error.event
          : expanding
            ? (error as Error).message
            : `MountVolume.SetUp failed for volume ${JSON.stringify(volume.name)} : ${(error as Error).message}`;
      return { failure, retryAfterMs };
    }
  }

  /** A csi, claim, flexVolume or nfs volume (without CSI volumes here: what upstream's plugin does on a host without the driver). */
  private async mountExternal(
    pod: Pod,
    uid: string,
    volume: Volume,
    context: PayloadContext,
  ): Promise<MountedVolume> {
    if (this.flex && volume.flexVolume) {
      const spec = inlineFlexSpec(volume);
      const dir = join(
        podVolumesDir(this.rootDir, uid),
        flexPluginDirectory(spec.source.driver),
        volume.name,
      );
      await this.flex.setUp(pod, spec, dir, context.objects);
      return { hostPath: dir, readOnly: spec.readOnly };
    }
    if (this.csi && volume.csi) return this.csi.setUpInline(pod, volume);
    if (this.csi && isMigratedInline(volume)) return this.csi.setUpMigratedInline(pod, volume);
    if (this.csi && (volume.persistentVolumeClaim || volume.ephemeral)) {
      // A claim bound to a hostPath, local, nfs or FlexVolume PersistentVolume is set up here, not by a CSI driver.
      const claimed = await this.csi.claimVolume(pod, volume);
      if ('csi' in claimed) return this.csi.setUpClaim(pod, volume, claimed.csi);
      const mounted = await setUpInTreeClaim(pod, claimed.inTree, {
        rootDir: this.rootDir,
        volumeDir: (plugin, name) => join(podVolumesDir(this.rootDir, uid), plugin, name),
        mounter: this.mounter,
        nfs: this.nfs,
        flex: this.flex,
        objects: context.objects,
      });
      // Upstream measures local and nfs volumes by statfs, local Block ones by the device's size;
      // hostPath and FlexVolume ones have no metrics here.
      if (claimed.inTree.pv.spec?.local || claimed.inTree.pv.spec?.nfs)
        this.measuredClaims.record(uid, volume.name, {
          dir: mounted.hostPath,
          pvcRef: claimed.inTree.pvcRef,
          ...(mounted.block ? { block: true } : {}),
        });
      return mounted;
    }
    if (volume.csi) throw new Error(csiDriverMissingMessage(volume.csi.driver));
    const nfs = volume.nfs!;
    const dir = this.volumeDir(uid, 'nfs', volume.name);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    // Mounted by an earlier sync: upstream's SetUp skips a mount point too.
    if (!(await this.mounter.isMountPoint(dir))) await mountNfs(this.nfs, nfs, dir);
    return { hostPath: dir, readOnly: nfs.readOnly === true };
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

  /** Unmounts the pod's mounted volumes, removes the pod's directory and forgets its mount back-offs. */
  async tearDown(uid: string): Promise<void> {
    if (this.removed.has(uid)) return;
    this.backOff.forgetPod(uid);
    this.waits.done(uid);
    // Local block volumes' locks, then CSI volumes: a failed unpublish keeps the pod's directory
    // (its vol_data.json) for the next try.
    await unmapLocalBlockVolumes(this.rootDir, uid, this.mounter);
    await this.csi?.tearDownPod(uid);
    const volumesDir = podVolumesDir(this.rootDir, uid);
    const plugins = await readdir(volumesDir).catch(() => [] as string[]);
    for (const plugin of plugins) {
      for (const name of await readdir(join(volumesDir, plugin)).catch(() => [] as string[])) {
        const dir = join(volumesDir, plugin, name);
        // A flexVolume's driver unmounts it; a failure keeps the pod's directory for the next try.
        if (this.flex && isFlexPluginDirectory(plugin)) await this.flex.tearDown(plugin, dir);
        else if (await this.mounter.isMountPoint(dir)) await this.mounter.unmount(dir);
      }
    }
    // A local disk's own mount goes once no pod binds it any more.
    if (plugins.includes(volumePluginDirs.local)) await unmountUnusedLocalDevices(this.rootDir, this.mounter);
    await removeTree(podDir(this.rootDir, uid));
    this.measuredClaims.forgetPod(uid);
    this.removed.add(uid);
  }

  /** The pod is gone from the kubelet: a pod of its uid that comes back is torn down anew. */
  forgetPod(uid: string): void {
    this.removed.delete(uid);
  }
}

/** The volumes a container of the pod mounts or maps (upstream GetPodVolumeNames). */
function mountedVolumeNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  const containers = [
    ...(pod.spec.initContainers ?? []),
    ...pod.spec.containers,
    ...(pod.spec.ephemeralContainers ?? []),
  ];
  for (const container of containers) {
    for (const mount of container.volumeMounts ?? []) names.add(mount.name);
    for (const device of container.volumeDevices ?? []) names.add(device.name);
  }
  return names;
}

/** The FlexVolume plugin over `pluginDir`; a driver whose `init` fails is logged as upstream's prober logs it. */
function flexVolumes(
  pluginDir: string,
  runner: FlexRunner,
  mounter: Mounter,
  logger: KubeletLogger,
): FlexVolumes {
  return new FlexVolumes(new FlexDrivers(pluginDir, runner, logger), runner, mounter);
}
