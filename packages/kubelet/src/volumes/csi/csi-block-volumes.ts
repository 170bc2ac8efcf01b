import { lstat, mkdir, readdir, readFile, realpath, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AccessModeName, CsiNodeClient, VolumeCapability } from '@nodeagent/csi-client';
import type { Pod } from '../../api/pod-types';
import type { MountedVolume } from '../../cri/container-config';
import { podVolumeDevicesDir } from '../../pod-dirs';
import { mapBlockVolume, unmapBlockVolume } from '../map-block-volume';
import type { Mounter } from '../mounter';
import { csiOperationError } from './csi-operation-error';
import { type CsiSecretReader, csiSecrets } from './csi-secrets';
import type { PersistentVolumeObject } from './csi-storage-objects';
import { attachmentName, CSI_PLUGIN_NAME, CSI_POD_VOLUME_DIR, VOL_DATA_FILE } from './csi-volume-paths';

/** `<root>/plugins/kubernetes.io/csi/volumeDevices`: upstream's GetVolumeDevicePluginDir for CSI. */
function deviceDir(rootDir: string): string {
  return join(rootDir, 'plugins', CSI_PLUGIN_NAME, 'volumeDevices');
}

/** Upstream's block paths of one volume (csi_block.go), named after the PersistentVolume. */
export function csiBlockPaths(rootDir: string, pvName: string, podUid: string) {
  const dir = deviceDir(rootDir);
  return {
    /** NodeStageVolume's staging_target_path: `volumeDevices/staging/<pv>`. */
    staging: join(dir, 'staging', pvName),
    /** NodePublishVolume's target_path, a file the driver makes: `volumeDevices/publish/<pv>/<pod uid>`. */
    publish: join(dir, 'publish', pvName, podUid),
    /** vol_data.json of the volume: `volumeDevices/<pv>/data`. */
    data: join(dir, pvName, 'data'),
    /** GetGlobalMapPath: `volumeDevices/<pv>/dev`, where each pod's bind of the device is (`dev/<pod uid>`). */
    globalMap: join(dir, pvName, 'dev'),
    /** The pod's link to the device: `pods/<uid>/volumeDevices/kubernetes.io~csi/<pv>`. */
    podDevice: join(podVolumeDevicesDir(rootDir, podUid), CSI_POD_VOLUME_DIR, pvName),
  };
}

/**
 * Upstream's populator check of a claim's volume against how the pod's containers use it: a
 * Filesystem volume (the default) only in volumeMounts, a Block one only in volumeDevices.
 */
export function checkVolumeMode(pod: Pod, volumeName: string, volumeMode: string | undefined): void {
  const mode = volumeMode ?? 'Filesystem';
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const mounted = containers.some((c) => (c.volumeMounts ?? []).some((m) => m.name === volumeName));
  const mapped = containers.some((c) => (c.volumeDevices ?? []).some((d) => d.name === volumeName));
  if (mounted && mode !== 'Filesystem')
    throw new Error(`volume ${volumeName} has volumeMode ${mode}, but is specified in volumeMounts`);
  if (mapped && mode !== 'Block')
    throw new Error(`volume ${volumeName} has volumeMode ${mode}, but is specified in volumeDevices`);
}

/** What a block claim's set-up needs from the claim path of csi-volumes.ts. */
export interface BlockVolumeSetUp {
  pod: Pod;
  pv: PersistentVolumeObject;
  client: CsiNodeClient;
  nodeName: string;
  accessMode: AccessModeName;
  readOnly: boolean;
  publishContext?: Record<string, string>;
  volumeContext: Record<string, string>;
  /** Reads the PV's stage and publish secrets. */
  secret: CsiSecretReader | undefined;
}

/** A block volume mapped into a pod: the container's device and where its expansion looks. */
export interface MappedBlockVolume {
  /** What the pod's containers get (the pod's link to the device). */
  volume: MountedVolume;
  /**
   * The device as upstream's MapVolume names it after MapPodDevice: the publish path with host
   * symlinks resolved. NodeExpandVolume's volume_path, and the path NodeGetVolumeStats is asked about.
   */
  devicePath: string;
  /** The staging path when the driver stages (upstream's SetUpDevice answer); none otherwise. */
  stagingPath?: string;
}

/**
 * `volumeMode: Block` claims as upstream's csiBlockMapper maps them: NodeStageVolume with a block
 * capability at `volumeDevices/staging/<pv>` (when the driver stages), NodePublishVolume to the
 * file `volumeDevices/publish/<pv>/<pod uid>` (the driver puts the device there), then
 * MapBlockVolume (map-block-volume.ts): the device bound on `volumeDevices/<pv>/dev/<pod uid>`
 * and held open there by a loop device, and a symlink to it at
 * `pods/<uid>/volumeDevices/kubernetes.io~csi/<pv>`, which the runtime gets as the container's
 * device (CRI Device).
 */
export class CsiBlockVolumes {
  /** Pod device links of the volumes mapped now (teardown reads each volume's vol_data.json). */
  private readonly mapped = new Set<string>();
  /** Staging paths of the volumes staged now. */
  private readonly staged = new Set<string>();

  constructor(
    private readonly rootDir: string,
    private readonly client: (driver: string) => CsiNodeClient,
    private readonly mounter: Mounter,
  ) {}

  /** SetUpDevice and MapPodDevice of one block claim for a pod (once; a mapped one is returned as is). */
  async setUp(input: BlockVolumeSetUp): Promise<MappedBlockVolume> {
    const csi = input.pv.spec?.csi as NonNullable<NonNullable<PersistentVolumeObject['spec']>['csi']>;
    const pvName = input.pv.metadata?.name ?? '';
    const uid = input.pod.metadata.uid ?? '';
    const paths = csiBlockPaths(this.rootDir, pvName, uid);
    if (this.mapped.has(paths.podDevice))
      return {
        volume: { hostPath: paths.podDevice, readOnly: input.readOnly, block: true },
        devicePath: await realpath(paths.publish).catch(() => paths.publish),
        ...(this.staged.has(paths.staging) ? { stagingPath: paths.staging } : {}),
      };
    const capability: VolumeCapability = { accessMode: { mode: input.accessMode }, block: {} };
    const stages = (await input.client.nodeGetCapabilities()).includes('STAGE_UNSTAGE_VOLUME');
    // SetUpDevice: vol_data.json first, then the stage (once per node; a repeated one is a no-op).
    await mkdir(paths.data, { recursive: true, mode: 0o750 });
    await writeFile(
      join(paths.data, VOL_DATA_FILE),
      JSON.stringify({
        specVolID: pvName,
        volumeHandle: csi.volumeHandle,
        driverName: csi.driver,
        nodeName: input.nodeName,
        attachmentID: attachmentName(csi.volumeHandle, csi.driver, input.nodeName),
      }),
    );
    // Staged once per node (upstream's device state), however many pods map it.
    if (stages && !this.staged.has(paths.staging)) {
      await mkdir(paths.staging, { recursive: true, mode: 0o750 });
      const stageSecrets = await csiSecrets(input.secret, csi.nodeStageSecretRef, 'NodeStageSecretRef');
      await input.client
        .nodeStageVolume({
          volumeId: csi.volumeHandle,
          ...(stageSecrets ? { secrets: stageSecrets } : {}),
          stagingTargetPath: paths.staging,
          volumeCapability: capability,
          volumeContext: csi.volumeAttributes ?? {},
          ...(input.publishContext ? { publishContext: input.publishContext } : {}),
        })
        .catch((e: unknown) => {
          throw csiOperationError('MapVolume.SetUpDevice', pvName, e);
        });
      this.staged.add(paths.staging);
    }
    // MapPodDevice: the publish path's directory is the kubelet's, the file the driver's.
    await mkdir(dirname(paths.publish), { recursive: true, mode: 0o750 });
    const secrets = await csiSecrets(input.secret, csi.nodePublishSecretRef, 'NodePublishSecretRef');
    await input.client
      .nodePublishVolume({
        volumeId: csi.volumeHandle,
        ...(secrets ? { secrets } : {}),
        ...(input.publishContext ? { publishContext: input.publishContext } : {}),
        ...(stages ? { stagingTargetPath: paths.staging } : {}),
        targetPath: paths.publish,
        volumeCapability: capability,
        readonly: input.readOnly,
        volumeContext: input.volumeContext,
      })
      .catch((e: unknown) => {
        throw csiOperationError('MapVolume.MapPodDevice', pvName, e);
      });
    // The driver's device (or the file it bound one onto, in its own mount namespace) must be there.
    if (!(await lstat(paths.publish).catch(() => undefined)))
      throw csiOperationError(
        'MapVolume.MapPodDevice',
        pvName,
        new Error(`blockMapper.MapPodDevice: the driver published nothing at ${paths.publish}`),
      );
    // Upstream's MapVolume resolves the device's host symlinks before it maps and expands it.
    const devicePath = await realpath(paths.publish);
    await mapBlockVolume(
      this.mounter,
      { devicePath, globalMapPath: paths.globalMap, podUid: uid, podDeviceLink: paths.podDevice },
      pvName,
    );
    this.mapped.add(paths.podDevice);
    return {
      volume: { hostPath: paths.podDevice, readOnly: input.readOnly, block: true },
      devicePath,
      ...(stages ? { stagingPath: paths.staging } : {}),
    };
  }

  /**
   * Unmaps every block volume of pod `uid` (after its containers stopped): UnmapBlockVolume (the
   * loop device and the bind), NodeUnpublishVolume, the pod's link, and NodeUnstageVolume once no
   * other pod has the volume published.
   */
  async tearDownPod(uid: string): Promise<void> {
    const dir = join(podVolumeDevicesDir(this.rootDir, uid), CSI_POD_VOLUME_DIR);
    for (const pvName of await readdir(dir).catch(() => [] as string[])) {
      const paths = csiBlockPaths(this.rootDir, pvName, uid);
      const data = await readFile(join(paths.data, VOL_DATA_FILE), 'utf8')
        .then((t) => JSON.parse(t) as { driverName: string; volumeHandle: string })
        .catch(() => undefined);
      await unmapBlockVolume(this.mounter, paths.globalMap, uid);
      if (!data) {
        await rm(paths.podDevice, { force: true });
        continue;
      }
      const client = this.client(data.driverName);
      await client.nodeUnpublishVolume({ volumeId: data.volumeHandle, targetPath: paths.publish });
      await rm(paths.publish, { force: true });
      await rm(paths.podDevice, { force: true });
      this.mapped.delete(paths.podDevice);
      const others = await readdir(dirname(paths.publish)).catch(() => [] as string[]);
      if (others.length > 0) continue;
      await rmdir(dirname(paths.publish)).catch(() => undefined);
      if ((await client.nodeGetCapabilities()).includes('STAGE_UNSTAGE_VOLUME'))
        await client.nodeUnstageVolume({ volumeId: data.volumeHandle, stagingTargetPath: paths.staging });
      await rm(paths.staging, { recursive: true, force: true });
      this.staged.delete(paths.staging);
      await rm(dirname(paths.data), { recursive: true, force: true });
    }
    await rm(podVolumeDevicesDir(this.rootDir, uid), { recursive: true, force: true });
  }
}
