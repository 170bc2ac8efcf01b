import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type {
  AccessModeName,
  CsiNodeClient,
  NodeCapabilityName,
  VolumeCapability,
} from '@nodeagent/csi-client';
import type { Pod, Volume } from '../../api/pod-types';
import type { MountedVolume } from '../../cri/container-config';
import type { PodEventRecorder } from '../../events/event-reasons';
import { CsiBlockVolumes, checkVolumeMode } from './csi-block-volumes';
import type { CsiDrivers } from './csi-drivers';
import { applyCsiFsGroup, type CsiMountFields, csiMountFields } from './csi-mount-fields';
import { type ClaimStatusWriter, CsiNodeExpansion } from './csi-node-expansion';
import { csiSecrets } from './csi-secrets';
import { hostSELinuxEnabled } from './csi-selinux';
import type { CsiTokenRequester } from './csi-service-account-tokens';
import type { CsiDriverObject, CsiStorageObjects } from './csi-storage-objects';
import {
  attachmentName,
  CSI_PLUGIN_NAME,
  CSI_POD_VOLUME_DIR,
  csiPodVolumeDir,
  csiPublishPath,
  csiStagingPath,
  inlineVolumeHandle,
  VOL_DATA_FILE,
} from './csi-volume-paths';
import { checkClaimIsForPod, podClaimReference } from './generic-ephemeral-volumes';

/** vol_data.json as upstream writes it (volDataKey's names). */
interface VolData {
  specVolumeID: string;
  volumeHandle: string;
  driverName: string;
  nodeName: string;
  attachmentID: string;
  volumeLifecycleMode: 'Persistent' | 'Ephemeral';
}

/** One claim's volume usage as its driver reports it (NodeGetVolumeStats), for kubelet_volume_stats_*. */
export interface ClaimVolumeStats {
  namespace: string;
  claim: string;
  capacityBytes?: number;
  availableBytes?: number;
  usedBytes?: number;
  inodes?: number;
  inodesFree?: number;
  inodesUsed?: number;
}

/** A claim's volume published here: what NodeGetVolumeStats needs. */
interface PublishedClaim {
  namespace: string;
  claim: string;
  driver: string;
  volumeHandle: string;
  targetPath: string;
  stagingTargetPath?: string;
}

/** Options for {@link CsiVolumes}. */
export interface CsiVolumesOptions {
  rootDir: string;
  nodeName: string;
  drivers: CsiDrivers;
  objects: CsiStorageObjects;
  /** Service account tokens for drivers with tokenRequests (the TokenRequest API); none in standalone mode. */
  tokens?: CsiTokenRequester;
  /** Pod events (FileSystemResizeSuccessful...); default none. */
  recordEvent?: PodEventRecorder;
  /** Whether the host runs SELinux (default: selinuxfs is mounted), for CSIDriver seLinuxMount. */
  selinuxEnabled?: boolean;
  /** Claim status updates of online expansion (NodeExpandVolume); none: claims are not expanded. */
  claimStatus?: ClaimStatusWriter;
}

function log(msg: string): string {
  return `kubernetes.io/csi: ${msg}`;
}

/** A PersistentVolume access mode as CSI's, given whether the driver has SINGLE_NODE_MULTI_WRITER (upstream asCSIAccessModeV1). */
function csiAccessMode(mode: string | undefined, multiWriter: boolean): AccessModeName {
  switch (mode) {
    case 'ReadWriteOnce':
      return multiWriter ? 'SINGLE_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER';
    case 'ReadOnlyMany':
      return 'MULTI_NODE_READER_ONLY';
    case 'ReadWriteMany':
      return 'MULTI_NODE_MULTI_WRITER';
    case 'ReadWriteOncePod':
      return multiWriter ? 'SINGLE_NODE_SINGLE_WRITER' : 'SINGLE_NODE_WRITER';
    default:
      return 'UNKNOWN';
  }
}

/**
 * CSI volumes of pods, as upstream's CSI volume plugin mounts them: an inline (ephemeral) volume
 * is published to `pods/<uid>/volumes/kubernetes.io~csi/<name>/mount` under a handle made from
 * the pod and volume; a claim's CSI PersistentVolume is staged once per node at
 * `plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/globalmount` and published per pod. Each
 * pod volume directory gets a vol_data.json, which is what teardown reads. The driver is asked
 * its capabilities before each step, as upstream asks (one NodeGetCapabilities per question).
 */
export class CsiVolumes {
  private readonly expansion: CsiNodeExpansion;
  private readonly block: CsiBlockVolumes;

  constructor(private readonly opts: CsiVolumesOptions) {
    this.expansion = new CsiNodeExpansion(
      opts.nodeName,
      opts.claimStatus,
      opts.recordEvent,
      opts.objects.secret,
    );
    this.block = new CsiBlockVolumes(opts.rootDir, (driver) => this.client(driver));
  }

  private client(driver: string): CsiNodeClient {
    const client = this.opts.drivers.client(driver);
    if (!client)
      throw new Error(
        log(
          `mounter.SetUpAt failed to get CSI client: driver name ${driver} not found in the list of registered CSI drivers`,
        ),
      );
    return client;
  }

  private async has(client: CsiNodeClient, capability: NodeCapabilityName): Promise<boolean> {
    return (await client.nodeGetCapabilities()).includes(capability);
  }

  /** Set up a pod's inline CSI volume (`volume.csi`). */
  async setUpInline(pod: Pod, volume: Volume): Promise<MountedVolume> {
    const source = volume.csi!;
    const uid = pod.metadata.uid ?? '';
    const driver = await this.opts.objects.csiDriver(source.driver);
    // Upstream supportsVolumeLifecycleMode: without a CSIDriver object a driver is Persistent only.
    if (!driver)
      throw new Error(
        log(`volume mode "Ephemeral" not supported by driver ${source.driver} (no CSIDriver object)`),
      );
    const modes = driver.spec?.volumeLifecycleModes ?? ['Persistent'];
    if (!modes.includes('Ephemeral'))
      throw new Error(
        log(
          `volume mode "Ephemeral" not supported by driver ${source.driver} (only supports [${modes.map((m) => JSON.stringify(m)).join(' ')}])`,
        ),
      );
    const target = csiPublishPath(this.opts.rootDir, uid, volume.name);
    // Published by an earlier sync: upstream's reconciler finds it mounted and leaves it, unless
    // the driver asks to be called again on every sync (requiresRepublish).
    if (this.publishedInline.has(target) && driver.spec?.requiresRepublish !== true)
      return { hostPath: target, readOnly: source.readOnly === true };
    const client = this.client(source.driver);
    const handle = inlineVolumeHandle(uid, volume.name);
    await this.writeVolData(uid, volume.name, {
      specVolumeID: volume.name,
      volumeHandle: handle,
      driverName: source.driver,
      nodeName: this.opts.nodeName,
      attachmentID: attachmentName(handle, source.driver, this.opts.nodeName),
      volumeLifecycleMode: 'Ephemeral',
    });
    // Upstream's SetUpAt asks whether the driver takes a volume mount group, then NodePublishVolume
    // whether it has SINGLE_NODE_MULTI_WRITER (inline volumes are ReadWriteOnce).
    const fields = await this.mountFields(
      pod,
      driver,
      client,
      true,
      source.fsType,
      undefined,
      source.readOnly,
    );
    const multiWriter = await this.has(client, 'SINGLE_NODE_MULTI_WRITER');
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    const secrets = await csiSecrets(
      this.opts.objects.secret,
      source.nodePublishSecretRef && {
        namespace: pod.metadata.namespace,
        name: source.nodePublishSecretRef.name,
      },
      'NodePublishSecretRef',
    );
    await client.nodePublishVolume({
      volumeId: handle,
      targetPath: target,
      ...(secrets ? { secrets } : {}),
      volumeCapability: this.capability(
        csiAccessMode('ReadWriteOnce', multiWriter),
        source.fsType,
        undefined,
        fields.volumeMountGroup,
      ),
      readonly: source.readOnly === true,
      volumeContext: {
        ...source.volumeAttributes,
        ...podInfo(pod, driver, 'Ephemeral'),
        ...fields.tokenAttrs,
      },
    });
    this.publishedInline.add(target);
    await applyCsiFsGroup(target, handle, fields);
    return { hostPath: target, readOnly: source.readOnly === true };
  }

  /** Set up a pod's claim (`volume.persistentVolumeClaim`, or a generic `volume.ephemeral`'s) bound to a CSI PersistentVolume. */
  async setUpClaim(pod: Pod, volume: Volume): Promise<MountedVolume> {
    const ref = podClaimReference(pod, volume);
    const namespace = pod.metadata.namespace ?? 'default';
    const claim = await this.opts.objects.claim(namespace, ref.claimName);
    if (!claim)
      throw new Error(
        `error processing PVC ${namespace}/${ref.claimName}: failed to fetch PVC from API server: persistentvolumeclaims "${ref.claimName}" not found`,
      );
    if (claim.metadata?.deletionTimestamp)
      throw new Error(`error processing PVC ${namespace}/${ref.claimName}: PVC is being deleted`);
    const pvName = claim.spec?.volumeName;
    if (!pvName || claim.status?.phase !== 'Bound')
      throw new Error(`error processing PVC ${namespace}/${ref.claimName}: PVC is not bound`);
    if (ref.ephemeral) checkClaimIsForPod(pod, claim);
    const pv = await this.opts.objects.persistentVolume(pvName);
    if (!pv)
      throw new Error(
        `error processing PVC ${namespace}/${ref.claimName}: failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`,
      );
    if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata?.uid)
      throw new Error(
        `error processing PVC ${namespace}/${ref.claimName}: failed to fetch PV ${pvName} from API server: PV's claimRef does not point to this PVC`,
      );
    const csi = pv.spec?.csi;
    if (!csi) throw new Error(`unsupported volume type: PersistentVolume ${pvName} has no CSI source`);
    checkVolumeMode(pod, volume.name, pv.spec?.volumeMode);
    const uid = pod.metadata.uid ?? '';
    const readOnly = ref.readOnly === true || csi.readOnly === true;
    const target = csiPublishPath(this.opts.rootDir, uid, pvName);
    // In use from now until the pod's teardown, mounted or not (upstream's desired state).
    this.inUse.set(target, `${CSI_PLUGIN_NAME}/${csi.driver}^${csi.volumeHandle}`);
    const driver = await this.opts.objects.csiDriver(csi.driver);
    // Published by an earlier sync: upstream's reconciler finds it mounted and leaves it, unless
    // the driver asks to be called again on every sync (requiresRepublish).
    const published = this.publishedClaims.get(target);
    if (published && driver?.spec?.requiresRepublish !== true) {
      // Upstream's populator looks for a grown claim on each sync (never for a read-only one).
      if (!ref.readOnly)
        await this.expansion.expandIfNeeded(
          {
            pod,
            claim,
            pv,
            client: this.client(csi.driver),
            targetPath: published.targetPath,
            ...(published.stagingTargetPath ? { stagingTargetPath: published.stagingTargetPath } : {}),
          },
          false,
        );
      return { hostPath: target, readOnly };
    }
    // Upstream's WaitForAttach: a driver that needs attaching (the default without a CSIDriver
    // object) is staged only once the external attacher marked its VolumeAttachment attached; the
    // attachment's metadata is the stage's and publish's publish_context.
    const publishContext =
      (driver?.spec?.attachRequired ?? true) ? await this.attached(csi.driver, csi.volumeHandle) : undefined;
    const client = this.client(csi.driver);
    const accessMode = pv.spec?.accessModes?.[0];
    if (pv.spec?.volumeMode === 'Block')
      return this.block.setUp({
        pod,
        pv,
        client,
        nodeName: this.opts.nodeName,
        accessMode: csiAccessMode(accessMode, await this.has(client, 'SINGLE_NODE_MULTI_WRITER')),
        readOnly,
        ...(publishContext ? { publishContext } : {}),
        volumeContext: { ...csi.volumeAttributes, ...podInfo(pod, driver, 'Persistent') },
        secret: this.opts.objects.secret,
      });
    const staging = csiStagingPath(this.opts.rootDir, csi.driver, csi.volumeHandle);
    // MountDevice (upstream csi_attacher): stage once per node when the driver stages.
    if (await this.has(client, 'STAGE_UNSTAGE_VOLUME')) {
      if (!(await this.isStaged(staging))) {
        const mountGroup = await this.stageMountGroup(pod, client);
        const multiWriter = await this.has(client, 'SINGLE_NODE_MULTI_WRITER');
        await mkdir(dirname(staging), { recursive: true, mode: 0o750 });
        try {
          const stageSecrets = await csiSecrets(
            this.opts.objects.secret,
            csi.nodeStageSecretRef,
            'NodeStageSecretRef',
          );
          await client.nodeStageVolume({
            volumeId: csi.volumeHandle,
            ...(stageSecrets ? { secrets: stageSecrets } : {}),
            stagingTargetPath: staging,
            volumeCapability: this.capability(
              csiAccessMode(accessMode, multiWriter),
              csi.fsType,
              pv.spec?.mountOptions,
              mountGroup,
            ),
            volumeContext: csi.volumeAttributes ?? {},
            ...(publishContext ? { publishContext } : {}),
          });
        } catch (e) {
          // Nothing is left that a later try or a restart could take for a staged volume.
          await rm(dirname(staging), { recursive: true, force: true });
          throw e;
        }
        // Written once staged: after a restart it says the volume is staged (isStaged).
        await writeFile(
          join(dirname(staging), VOL_DATA_FILE),
          JSON.stringify({ driverName: csi.driver, volumeHandle: csi.volumeHandle }),
        );
        this.stagedVolumes.add(staging);
      }
    }
    // SetUp (upstream csi_mounter).
    // The pod's directory is named after the PersistentVolume (upstream's spec name).
    await this.writeVolData(uid, pvName, {
      specVolumeID: pvName,
      volumeHandle: csi.volumeHandle,
      driverName: csi.driver,
      nodeName: this.opts.nodeName,
      attachmentID: attachmentName(csi.volumeHandle, csi.driver, this.opts.nodeName),
      volumeLifecycleMode: 'Persistent',
    });
    const stages = await this.has(client, 'STAGE_UNSTAGE_VOLUME');
    const fields = await this.mountFields(
      pod,
      driver,
      client,
      false,
      csi.fsType,
      pv.spec?.accessModes,
      readOnly,
    );
    const multiWriter = await this.has(client, 'SINGLE_NODE_MULTI_WRITER');
    const secrets = await csiSecrets(
      this.opts.objects.secret,
      csi.nodePublishSecretRef,
      'NodePublishSecretRef',
    );
    await client.nodePublishVolume({
      volumeId: csi.volumeHandle,
      ...(publishContext ? { publishContext } : {}),
      ...(stages ? { stagingTargetPath: staging } : {}),
      ...(secrets ? { secrets } : {}),
      targetPath: target,
      volumeCapability: this.capability(
        csiAccessMode(accessMode, multiWriter),
        csi.fsType,
        pv.spec?.mountOptions,
        fields.volumeMountGroup,
      ),
      readonly: readOnly,
      volumeContext: { ...csi.volumeAttributes, ...podInfo(pod, driver, 'Persistent'), ...fields.tokenAttrs },
    });
    await applyCsiFsGroup(target, csi.volumeHandle, fields);
    // A claim grown while no pod used it is expanded as it is mounted (upstream's MountVolume);
    // until it succeeds the volume does not count as set up, so the next sync tries both again.
    if (!ref.readOnly)
      await this.expansion.expandIfNeeded(
        {
          pod,
          claim,
          pv,
          client,
          targetPath: target,
          ...(stages ? { stagingTargetPath: staging } : {}),
        },
        true,
      );
    this.publishedClaims.set(target, {
      namespace,
      claim: ref.claimName,
      driver: csi.driver,
      volumeHandle: csi.volumeHandle,
      targetPath: target,
      ...(stages ? { stagingTargetPath: staging } : {}),
    });
    return { hostPath: target, readOnly };
  }

  /** The attached volume's publish context, or upstream's WaitForAttach error. */
  private async attached(driver: string, handle: string): Promise<Record<string, string>> {
    const name = attachmentName(handle, driver, this.opts.nodeName);
    let attachment: Awaited<ReturnType<CsiStorageObjects['volumeAttachment']>>;
    try {
      attachment = await this.opts.objects.volumeAttachment(name);
    } catch (e) {
      throw new Error(
        `volume ${handle} has GET error for volume attachment ${name}: ${(e as Error).message}`,
      );
    }
    if (attachment.status?.attached) return attachment.status.attachmentMetadata ?? {};
    const attachError = attachment.status?.attachError?.message;
    if (attachError) throw new Error(attachError);
    throw new Error(
      `timed out waiting for external-attacher of ${driver} CSI driver to attach volume ${handle}`,
    );
  }

  /**
   * Tear down every CSI volume of pod `uid` (after its containers stopped): NodeUnpublishVolume
   * for each, then NodeUnstageVolume for a staged volume no other pod publishes any more.
   */
  async tearDownPod(uid: string): Promise<void> {
    await this.block.tearDownPod(uid);
    const dir = join(this.opts.rootDir, 'pods', uid, 'volumes', CSI_POD_VOLUME_DIR);
    for (const target of this.inUse.keys()) if (target.startsWith(`${dir}/`)) this.inUse.delete(target);
    const staged = new Set<string>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const data = await this.readVolData(join(dir, name));
      if (!data) continue;
      const client = this.client(data.driverName);
      await client.nodeUnpublishVolume({ volumeId: data.volumeHandle, targetPath: join(dir, name, 'mount') });
      this.publishedClaims.delete(join(dir, name, 'mount'));
      this.publishedInline.delete(join(dir, name, 'mount'));
      await rm(join(dir, name), { recursive: true, force: true });
      if (data.volumeLifecycleMode === 'Persistent')
        staged.add(JSON.stringify([data.driverName, data.volumeHandle]));
    }
    for (const key of staged) {
      const [driver, handle] = JSON.parse(key) as [string, string];
      if (await this.publishedElsewhere(driver, handle)) continue;
      const staging = csiStagingPath(this.opts.rootDir, driver, handle);
      const client = this.client(driver);
      if (await this.has(client, 'STAGE_UNSTAGE_VOLUME'))
        await client.nodeUnstageVolume({ volumeId: handle, stagingTargetPath: staging });
      await rm(dirname(staging), { recursive: true, force: true });
      this.stagedVolumes.delete(staging);
    }
  }

  private readonly stagedVolumes = new Set<string>();
  private readonly publishedClaims = new Map<string, PublishedClaim>();
  /** Publish path → the claim volume's unique name (`kubernetes.io/csi/<driver>^<handle>`). */
  private readonly inUse = new Map<string, string>();

  /**
   * The persistent CSI volumes this node's pods use, as upstream's volume manager reports them in
   * node.status.volumesInUse (attachable volumes only: inline ones are not), each once, sorted.
   */
  volumesInUse(): string[] {
    return [...new Set(this.inUse.values())].sort();
  }
  /**
   * Inline volumes published by this kubelet. In memory: after a restart a pod's volumes are
   * published again, which CSI drivers must take as a no-op (NodePublishVolume is idempotent);
   * upstream reconstructs them from the mount table instead.
   */
  private readonly publishedInline = new Set<string>();

  /**
   * The usage of each claim's volume published here, from drivers with GET_VOLUME_STATS (one
   * entry per claim, as upstream's collector reports a claim once). A driver that fails is left
   * out of this round.
   */
  async claimVolumeStats(): Promise<ClaimVolumeStats[]> {
    const out = new Map<string, ClaimVolumeStats>();
    for (const p of this.publishedClaims.values()) {
      const key = `${p.namespace}/${p.claim}`;
      if (out.has(key)) continue;
      const client = this.opts.drivers.client(p.driver);
      if (!client) continue;
      try {
        if (!(await this.has(client, 'GET_VOLUME_STATS'))) continue;
        const res = await client.nodeGetVolumeStats({
          volumeId: p.volumeHandle,
          volumePath: p.targetPath,
          ...(p.stagingTargetPath ? { stagingTargetPath: p.stagingTargetPath } : {}),
        });
        const stats: ClaimVolumeStats = { namespace: p.namespace, claim: p.claim };
        for (const u of res.usage) {
          if (u.unit === 'BYTES') {
            stats.capacityBytes = u.total;
            stats.availableBytes = u.available;
            stats.usedBytes = u.used;
          } else if (u.unit === 'INODES') {
            stats.inodes = u.total;
            stats.inodesFree = u.available;
            stats.inodesUsed = u.used;
          }
        }
        out.set(key, stats);
      } catch {
        // A driver that cannot answer now: its volumes are missing from this round only.
      }
    }
    return [...out.values()];
  }

  private async isStaged(staging: string): Promise<boolean> {
    if (this.stagedVolumes.has(staging)) return true;
    // Staged before a restart: its vol_data.json beside globalmount says so.
    return (
      (await readFile(join(dirname(staging), VOL_DATA_FILE), 'utf8').catch(() => undefined)) !== undefined
    );
  }

  /** Whether another pod's vol_data.json still names this volume. */
  private async publishedElsewhere(driver: string, handle: string): Promise<boolean> {
    const pods = join(this.opts.rootDir, 'pods');
    for (const uid of await readdir(pods).catch(() => [] as string[])) {
      const dir = join(pods, uid, 'volumes', CSI_POD_VOLUME_DIR);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const data = await this.readVolData(join(dir, name));
        if (data?.driverName === driver && data.volumeHandle === handle) return true;
      }
    }
    return false;
  }

  private capability(
    mode: AccessModeName,
    fsType?: string,
    mountFlags?: string[],
    volumeMountGroup?: string,
  ): VolumeCapability {
    return {
      accessMode: { mode },
      mount: {
        ...(fsType ? { fsType } : {}),
        ...(mountFlags?.length ? { mountFlags } : {}),
        ...(volumeMountGroup ? { volumeMountGroup } : {}),
      },
    };
  }

  /** The CSIDriver fields for one publish (csi-mount-fields.ts). */
  private mountFields(
    pod: Pod,
    driver: CsiDriverObject | undefined,
    client: CsiNodeClient,
    inline: boolean,
    fsType: string | undefined,
    accessModes: string[] | undefined,
    readOnly: boolean | undefined,
  ): Promise<CsiMountFields> {
    return csiMountFields({
      pod,
      driver,
      client,
      inline,
      fsType,
      accessModes,
      readOnly: readOnly === true,
      tokens: this.opts.tokens,
      selinuxEnabled: this.opts.selinuxEnabled ?? hostSELinuxEnabled(),
    });
  }

  /** Upstream MountDevice: a driver with VOLUME_MOUNT_GROUP stages with the pod's fsGroup. */
  private async stageMountGroup(pod: Pod, client: CsiNodeClient): Promise<string | undefined> {
    const takes = await this.has(client, 'VOLUME_MOUNT_GROUP');
    const fsGroup = (pod.spec.securityContext as { fsGroup?: number } | undefined)?.fsGroup;
    return takes && fsGroup !== undefined ? String(fsGroup) : undefined;
  }

  private async writeVolData(uid: string, name: string, data: VolData): Promise<void> {
    const dir = csiPodVolumeDir(this.opts.rootDir, uid, name);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await writeFile(join(dir, VOL_DATA_FILE), JSON.stringify(data));
  }

  private async readVolData(dir: string): Promise<VolData | undefined> {
    const text = await readFile(join(dir, VOL_DATA_FILE), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as VolData);
  }
}

/**
 * The pod's attributes a driver with podInfoOnMount gets in volume_context (upstream
 * getPodInfoAttrs), `csi.storage.k8s.io/ephemeral` saying whether the volume is inline.
 */
function podInfo(
  pod: Pod,
  driver: CsiDriverObject | undefined,
  mode: 'Persistent' | 'Ephemeral',
): Record<string, string> {
  if (driver?.spec?.podInfoOnMount !== true) return {};
  return {
    'csi.storage.k8s.io/pod.name': pod.metadata.name ?? '',
    'csi.storage.k8s.io/pod.namespace': pod.metadata.namespace ?? '',
    'csi.storage.k8s.io/pod.uid': pod.metadata.uid ?? '',
    'csi.storage.k8s.io/serviceAccount.name': pod.spec.serviceAccountName ?? 'default',
    'csi.storage.k8s.io/ephemeral': String(mode === 'Ephemeral'),
  };
}
