import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type {
  AccessModeName,
  CsiNodeClient,
  NodeCapabilityName,
  VolumeCapability,
} from '@nodeagent/csi-client';
import { nodeSelectorTermsMatchLabels } from '@nodeagent/primitives/scheduling';
import type { Pod, Volume } from '../../api/pod-types';
import type { MountedVolume } from '../../cri/container-config';
import type { PodEventRecorder } from '../../events/event-reasons';
import { podDirectories } from '../../pod-dirs';
import { goErrnoText } from '../go-errno';
import { type Mounter, systemMounter } from '../mounter';
import { CsiBlockVolumes, checkVolumeMode, csiBlockPaths } from './csi-block-volumes';
import type { CsiDrivers } from './csi-drivers';
import type { CsiExhaustedResource } from './csi-exhausted-resource';
import { applyCsiFsGroup, type CsiMountFields, csiMountFields } from './csi-mount-fields';
import { type ClaimStatusWriter, CsiNodeExpansion } from './csi-node-expansion';
import { CsiVolumeOperationError, csiOperationError } from './csi-operation-error';
import { csiSecrets } from './csi-secrets';
import { hostSELinuxEnabled } from './csi-selinux';
import type { CsiTokenRequester } from './csi-service-account-tokens';
import type {
  ClaimObject,
  CsiDriverObject,
  CsiStorageObjects,
  PersistentVolumeObject,
} from './csi-storage-objects';
import { verifyControllerAttached } from './csi-verify-attached';
import {
  attachmentName,
  CSI_PLUGIN_NAME,
  checkPodVolumeTarget,
  csiPodVolumeDir,
  csiPodVolumesDir,
  csiPublishPath,
  csiStagingPath,
  inlineVolumeHandle,
  VOL_DATA_FILE,
} from './csi-volume-paths';
import { type CsiVolumeUsage, readCsiVolumeStats } from './csi-volume-stats';
import { checkClaimIsForPod, type PodClaimReference, podClaimReference } from './generic-ephemeral-volumes';
import {
  isMigratedInline,
  migratedPersistentVolume,
  translateMigratedInline,
} from './migration/migrated-volumes';

/** vol_data.json as upstream writes it (volDataKey's names). */
export interface VolData {
  /** The volume's spec name (a claim's PersistentVolume, an inline volume's own name). */
  specVolID: string;
  /** The driver's volume ID. */
  volumeHandle: string;
  /** The CSI driver. */
  driverName: string;
  /** The node it was published on. */
  nodeName: string;
  /** Its VolumeAttachment's name. */
  attachmentID: string;
  /** Inline (`Ephemeral`) or a PersistentVolume's (`Persistent`). */
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
  /** The driver's VolumeCondition said abnormal (kubelet_volume_stats_health_status_abnormal). */
  abnormal?: boolean;
}

/** A volume published here: what NodeGetVolumeStats and the summary's pod volume stats need. */
interface PublishedVolume {
  podUid: string;
  /** The pod's own name for the volume (spec.volumes[].name). */
  podVolumeName: string;
  /** The claim a persistent volume came from; none for an inline volume. */
  namespace?: string;
  claim?: string;
  driver: string;
  volumeHandle: string;
  targetPath: string;
  stagingTargetPath?: string;
}

/** A pod's claim, bound, and its PersistentVolume (translated to CSI when migrated). */
interface ClaimedVolume {
  ref: PodClaimReference;
  namespace: string;
  claim: ClaimObject;
  pv: PersistentVolumeObject;
  pvName: string;
}

/** A claim bound to a CSI PersistentVolume, ready for {@link CsiVolumes.setUpClaim}. */
export interface CsiClaim extends ClaimedVolume {
  csi: NonNullable<NonNullable<PersistentVolumeObject['spec']>['csi']>;
}

/** A claim's PersistentVolume of a source the kubelet mounts itself, and the pod's readOnly for it. */
export interface InTreeClaim {
  pv: PersistentVolumeObject;
  pvName: string;
  readOnly: boolean;
  /** The claim (the summary's pvcRef). */
  pvcRef: { name: string; namespace: string };
}

/** A PersistentVolume's CSI volume to set up for a pod, and the claim it came through, if any. */
interface PersistentSource {
  pv: PersistentVolumeObject;
  pvName: string;
  csi: NonNullable<NonNullable<PersistentVolumeObject['spec']>['csi']>;
  readOnly: boolean;
  /** readOnly: the pod's persistentVolumeClaim.readOnly, which keeps the volume from being expanded. */
  claim?: { object: ClaimObject; namespace: string; name: string; readOnly: boolean };
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
  /** Binds and loop devices of block volumes (default {@link systemMounter}, needs root). */
  mounter?: Mounter;
  /** Whether the host runs SELinux (default: selinuxfs is mounted), for CSIDriver seLinuxMount. */
  selinuxEnabled?: boolean;
  /** Claim status updates of online expansion (NodeExpandVolume); none: claims are not expanded. */
  claimStatus?: ClaimStatusWriter;
  /** The CSIVolumeHealth feature gate (alpha, off by default): whether VolumeCondition is read. */
  volumeHealth?: boolean;
  /** Upstream's VerifyExhaustedResource, with a CSIDriver watch; none: no volume counts as exhausted. */
  exhaustedResource?: Pick<CsiExhaustedResource, 'verify'>;
  /**
   * The Node's labels as the API server last served them, for a PersistentVolume's node affinity
   * at mount; undefined (no Node yet, or none given): not checked.
   */
  nodeLabels?: () => Readonly<Record<string, string>> | undefined;
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
      // Read when a secret is needed: the objects may come up after the volumes are built.
      (namespace, name) => {
        const read = this.opts.objects.secret;
        if (!read) throw new Error('no API server to read it from (standalone mode)');
        return read(namespace, name);
      },
    );
    this.block = new CsiBlockVolumes(
      opts.rootDir,
      (driver) => this.client(driver),
      opts.mounter ?? systemMounter,
    );
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
    checkPodVolumeTarget(this.opts.rootDir, uid, volume.name, volume.name);
    // Published by an earlier sync: upstream's reconciler finds it mounted and leaves it, unless
    // the driver asks to be called again on every sync (requiresRepublish).
    if (this.publishedInline.has(target) && driver.spec?.requiresRepublish !== true)
      return { hostPath: target, readOnly: source.readOnly === true };
    const client = this.client(source.driver);
    const handle = inlineVolumeHandle(uid, volume.name);
    await this.writeVolData(uid, volume.name, {
      specVolID: volume.name,
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
    await client
      .nodePublishVolume({
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
      })
      .catch((e: unknown) => {
        throw csiOperationError('MountVolume.SetUp', volume.name, e);
      });
    this.publishedInline.set(target, {
      podUid: uid,
      podVolumeName: volume.name,
      driver: source.driver,
      volumeHandle: handle,
      targetPath: target,
    });
    await applyCsiFsGroup(target, handle, fields);
    return { hostPath: target, readOnly: source.readOnly === true };
  }

  /**
   * The pod's claim, its bound PersistentVolume and the volume's CSI source, with upstream's
   * errors for a claim missing, being deleted, unbound or not the pod's, and a PV that is not the
   * claim's or not CSI.
   */
  private async boundClaim(pod: Pod, volume: Volume): Promise<CsiClaim> {
    return this.csiClaim(pod, volume, await this.claimedVolume(pod, volume));
  }

  /**
   * The pod's claim and its PersistentVolume, read once: a CSI (or CSI-migrated) volume for
   * {@link setUpClaim}, or one of a source the kubelet sets up itself (hostPath, local, nfs,
   * FlexVolume), with the pod's readOnly. A claim not ready fails as for CSI.
   */
  async claimVolume(pod: Pod, volume: Volume): Promise<{ csi: CsiClaim } | { inTree: InTreeClaim }> {
    const claimed = await this.claimedVolume(pod, volume);
    const spec = claimed.pv.spec;
    if (spec?.csi || !(spec?.hostPath || spec?.local || spec?.nfs || spec?.flexVolume))
      return { csi: this.csiClaim(pod, volume, claimed) };
    checkVolumeMode(pod, volume.name, spec.volumeMode);
    const pvcRef = { name: claimed.ref.claimName, namespace: claimed.namespace };
    return {
      inTree: { pv: claimed.pv, pvName: claimed.pvName, readOnly: claimed.ref.readOnly === true, pvcRef },
    };
  }

  /**
   * Upstream's checkNodeAffinity in MountVolume and MapVolume: a PersistentVolume whose required
   * node affinity this node's labels do not match is not mounted
   * (`MountVolume.NodeAffinity check failed for volume "<pv>" : no matching NodeSelectorTerms`).
   */
  private checkNodeAffinity({ pv, pvName }: ClaimedVolume): void {
    const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
    const labels = this.opts.nodeLabels?.();
    if (!terms || !labels || nodeSelectorTermsMatchLabels(terms, labels)) return;
    const operation =
      pv.spec?.volumeMode === 'Block' ? 'MapVolume.NodeAffinity check' : 'MountVolume.NodeAffinity check';
    throw new CsiVolumeOperationError(operation, pvName, 'no matching NodeSelectorTerms', false);
  }

  private csiClaim(pod: Pod, volume: Volume, claimed: ClaimedVolume): CsiClaim {
    const csi = claimed.pv.spec?.csi;
    if (!csi)
      throw new Error(`unsupported volume type: PersistentVolume ${claimed.pvName} has no CSI source`);
    checkVolumeMode(pod, volume.name, claimed.pv.spec?.volumeMode);
    return { ...claimed, csi };
  }

  /** Upstream's populator: the pod's claim, bound, and its PersistentVolume (CSI-migrated when in-tree). */
  private async claimedVolume(pod: Pod, volume: Volume): Promise<ClaimedVolume> {
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
    const claimed = { ref, namespace, claim, pv: migratedPersistentVolume(pv), pvName };
    // Every claim's volume, whichever plugin mounts it (upstream checks in MountVolume and MapVolume).
    this.checkNodeAffinity(claimed);
    return claimed;
  }

  /**
   * Set up a pod's claim (`volume.persistentVolumeClaim`, or a generic `volume.ephemeral`'s) bound
   * to a CSI PersistentVolume, or to an in-tree one its CSI driver now serves (translated).
   */
  async setUpClaim(pod: Pod, volume: Volume, claimed?: CsiClaim): Promise<MountedVolume> {
    const { ref, namespace, claim, pv, pvName, csi } = claimed ?? (await this.boundClaim(pod, volume));
    return this.setUpPersistent(pod, volume, {
      pv,
      pvName,
      csi,
      readOnly: ref.readOnly === true || csi.readOnly === true,
      claim: { object: claim, namespace, name: ref.claimName, readOnly: ref.readOnly === true },
    });
  }

  /**
   * Set up an inline in-tree volume (`gcePersistentDisk`, `awsElasticBlockStore`, ...) as
   * upstream's CSI migration does: translated to a CSI PersistentVolume (named
   * `<driver>-<disk>`), then attached, staged and published through that driver.
   */
  async setUpMigratedInline(pod: Pod, volume: Volume): Promise<MountedVolume> {
    const pv = translateMigratedInline(volume, pod.metadata.namespace ?? 'default');
    const csi = pv.spec!.csi!;
    const pvName = pv.metadata?.name ?? '';
    return this.setUpPersistent(pod, volume, { pv, pvName, csi, readOnly: csi.readOnly === true });
  }

  /**
   * Upstream's VerifyExhaustedResource for a pod's volume still unattached when its wait timed
   * out: a claim's PersistentVolume or a migrated inline volume whose driver opted in and whose
   * VolumeAttachment failed with ResourceExhausted. Anything that cannot be read counts as not.
   */
  async attachLimitExhausted(pod: Pod, volume: Volume): Promise<boolean> {
    const check = this.opts.exhaustedResource;
    if (!check) return false;
    try {
      const csi = isMigratedInline(volume)
        ? translateMigratedInline(volume, pod.metadata.namespace ?? 'default').spec?.csi
        : (await this.boundClaim(pod, volume)).csi;
      return csi ? await check.verify(csi) : false;
    } catch {
      return false;
    }
  }

  /** Attach-wait, stage and publish a PersistentVolume's CSI volume for a pod (upstream's MountVolume). */
  private async setUpPersistent(pod: Pod, volume: Volume, source: PersistentSource): Promise<MountedVolume> {
    const { pv, pvName, csi, readOnly, claim: bound } = source;
    const claim = bound?.object;
    const namespace = bound?.namespace;
    const uid = pod.metadata.uid ?? '';
    const target = csiPublishPath(this.opts.rootDir, uid, pvName);
    checkPodVolumeTarget(this.opts.rootDir, uid, pvName, pvName);
    const uniqueName = `${CSI_PLUGIN_NAME}/${csi.driver}^${csi.volumeHandle}`;
    // In use from now until the pod's teardown, mounted or not (upstream's desired state).
    this.inUse.set(target, uniqueName);
    const driver = await this.opts.objects.csiDriver(csi.driver);
    if (pv.spec?.volumeMode === 'Block') return this.setUpBlock(pod, volume, source, driver, uniqueName);
    // Published by an earlier sync: upstream's reconciler finds it mounted and leaves it, unless
    // the driver asks to be called again on every sync (requiresRepublish).
    const published = this.publishedClaims.get(target);
    if (published && driver?.spec?.requiresRepublish !== true) {
      // Upstream's populator looks for a grown volume on each sync (never for a read-only claim).
      if (claim && bound)
        await this.expansion.expandInUse({
          pod,
          claim,
          pv,
          client: this.client(csi.driver),
          targetPath: published.targetPath,
          ...(published.stagingTargetPath ? { stagingTargetPath: published.stagingTargetPath } : {}),
          readOnly: bound.readOnly,
        });
      return { hostPath: target, readOnly };
    }
    const publishContext = await this.attachedContext(driver, csi.driver, csi.volumeHandle, uniqueName);
    const client = this.client(csi.driver);
    const accessMode = pv.spec?.accessModes?.[0];
    const staging = csiStagingPath(this.opts.rootDir, csi.driver, csi.volumeHandle);
    const device = JSON.stringify([csi.driver, csi.volumeHandle]);
    // MountDevice (upstream csi_attacher): stage once per node when the driver stages.
    if ((await this.has(client, 'STAGE_UNSTAGE_VOLUME')) && !this.stagedVolumes.has(staging))
      await this.stageClaim({
        pod,
        uid,
        pvName,
        csi,
        client,
        accessMode,
        mountOptions: pv.spec?.mountOptions,
        publishContext,
        staging,
        device,
      });
    // SetUp (upstream csi_mounter).
    // The pod's directory is named after the PersistentVolume (upstream's spec name).
    await this.writeVolData(uid, pvName, {
      specVolID: pvName,
      volumeHandle: csi.volumeHandle,
      driverName: csi.driver,
      nodeName: this.opts.nodeName,
      attachmentID: attachmentName(csi.volumeHandle, csi.driver, this.opts.nodeName),
      volumeLifecycleMode: 'Persistent',
    });
    this.devicesOf(uid).add(device);
    const stages = await this.has(client, 'STAGE_UNSTAGE_VOLUME');
    const fields = await this.mountFields(
      pod,
      driver,
      client,
      false,
      csi.fsType,
      pv.spec?.accessModes,
      readOnly,
    ).catch((e: unknown) => {
      throw csiOperationError('MountVolume.SetUp', pvName, e);
    });
    const multiWriter = await this.has(client, 'SINGLE_NODE_MULTI_WRITER');
    const secrets = await csiSecrets(
      this.opts.objects.secret,
      csi.nodePublishSecretRef,
      'NodePublishSecretRef',
    ).catch((e: unknown) => {
      throw csiOperationError('MountVolume.SetUp', pvName, e);
    });
    await client
      .nodePublishVolume({
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
        volumeContext: {
          ...csi.volumeAttributes,
          ...podInfo(pod, driver, 'Persistent'),
          ...fields.tokenAttrs,
        },
      })
      .catch((e: unknown) => {
        throw csiOperationError('MountVolume.SetUp', pvName, e);
      });
    await applyCsiFsGroup(target, csi.volumeHandle, fields);
    // A claim grown while no pod used it is expanded as it is mounted (upstream's MountVolume);
    // until it succeeds the volume does not count as set up, so the next sync tries both again.
    if (claim && bound)
      await this.expansion.expandDuringMount({
        pod,
        claim,
        pv,
        client,
        targetPath: target,
        ...(stages ? { stagingTargetPath: staging } : {}),
        readOnly: bound.readOnly,
      });
    this.publishedClaims.set(target, {
      podUid: uid,
      podVolumeName: volume.name,
      ...(bound ? { namespace, claim: bound.name } : {}),
      driver: csi.driver,
      volumeHandle: csi.volumeHandle,
      targetPath: target,
      ...(stages ? { stagingTargetPath: staging } : {}),
    });
    return { hostPath: target, readOnly };
  }

  /**
   * A `volumeMode: Block` claim, as upstream's MapVolume: attach-wait, SetUpDevice and
   * MapPodDevice (csi-block-volumes.ts), then NodeExpandVolume of a grown claim with the device
   * as volume_path (a failure fails the mapping, which the next sync tries again). Once mapped,
   * each sync only looks for a grown claim, as upstream's populator does; that in-use expansion
   * sends the mapper's staging path whether or not the driver stages, as upstream's
   * GenerateExpandInUseVolumeFunc does.
   */
  private async setUpBlock(
    pod: Pod,
    volume: Volume,
    source: PersistentSource,
    driver: CsiDriverObject | undefined,
    uniqueName: string,
  ): Promise<MountedVolume> {
    const { pv, pvName, csi, readOnly, claim: bound } = source;
    const uid = pod.metadata.uid ?? '';
    const paths = csiBlockPaths(this.opts.rootDir, pvName, uid);
    const expand = (devicePath: string, stagingPath: string | undefined, duringMount: boolean) => {
      if (!bound) return Promise.resolve();
      const expandable = {
        pod,
        claim: bound.object,
        pv,
        client: this.client(csi.driver),
        targetPath: devicePath,
        ...(stagingPath ? { stagingTargetPath: stagingPath } : {}),
        block: true,
        readOnly: bound.readOnly,
      };
      return duringMount
        ? this.expansion.expandDuringMount(expandable)
        : this.expansion.expandInUse(expandable);
    };
    const mapped = this.publishedBlocks.get(paths.podDevice);
    if (mapped) {
      await expand(mapped.targetPath, paths.staging, false);
      return { hostPath: paths.podDevice, readOnly, block: true };
    }
    const publishContext = await this.attachedContext(driver, csi.driver, csi.volumeHandle, uniqueName);
    const client = this.client(csi.driver);
    const set = await this.block.setUp({
      pod,
      pv,
      client,
      nodeName: this.opts.nodeName,
      accessMode: csiAccessMode(
        pv.spec?.accessModes?.[0],
        await this.has(client, 'SINGLE_NODE_MULTI_WRITER'),
      ),
      readOnly,
      ...(publishContext ? { publishContext } : {}),
      volumeContext: { ...csi.volumeAttributes, ...podInfo(pod, driver, 'Persistent') },
      secret: this.opts.objects.secret,
    });
    await expand(set.devicePath, set.stagingPath, true);
    // Measured at the device the driver published (NodeGetVolumeStats with no staging path, as
    // upstream's block metrics ask).
    this.publishedBlocks.set(paths.podDevice, {
      podUid: uid,
      podVolumeName: volume.name,
      ...(bound ? { namespace: bound.namespace, claim: bound.name } : {}),
      driver: csi.driver,
      volumeHandle: csi.volumeHandle,
      targetPath: set.devicePath,
    });
    return set.volume;
  }

  /**
   * Upstream's MountDevice: vol_data.json beside the global mount first (teardown reads it to
   * unstage), then NodeStageVolume. A final failure leaves nothing that could pass for a staged
   * volume; an unfinished one (timeout, driver gone) stays for teardown's NodeUnstageVolume.
   */
  private async stageClaim(args: {
    pod: Pod;
    uid: string;
    pvName: string;
    csi: NonNullable<NonNullable<PersistentVolumeObject['spec']>['csi']>;
    client: CsiNodeClient;
    accessMode: string | undefined;
    mountOptions: string[] | undefined;
    publishContext: Record<string, string> | undefined;
    staging: string;
    device: string;
  }): Promise<void> {
    const { pod, uid, pvName, csi, client, accessMode, mountOptions, publishContext, staging, device } = args;
    const mountGroup = await this.stageMountGroup(pod, client);
    const multiWriter = await this.has(client, 'SINGLE_NODE_MULTI_WRITER');
    await mkdir(dirname(staging), { recursive: true, mode: 0o750 });
    // Written before the stage, as upstream's MountDevice: teardown reads it to unstage.
    await writeFile(
      join(dirname(staging), VOL_DATA_FILE),
      JSON.stringify({ driverName: csi.driver, volumeHandle: csi.volumeHandle }),
    );
    // From the first try on, this pod's teardown unstages the volume (a timed-out stage may
    // have staged it after all).
    this.devicesOf(uid).add(device);
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
          mountOptions,
          mountGroup,
        ),
        volumeContext: csi.volumeAttributes ?? {},
        ...(publishContext ? { publishContext } : {}),
      });
    } catch (e) {
      const error = csiOperationError('MountVolume.MountDevice', pvName, e);
      // A final failure staged nothing: nothing is left that could pass for a staged volume.
      // An unfinished one (timeout, driver gone) stays for teardown's NodeUnstageVolume.
      if (!error.uncertain) {
        this.devicesOf(uid).delete(device);
        // A staging directory the driver left populated stays (the error above is the news).
        await removeMountDir(dirname(staging), 'globalmount').catch(() => undefined);
      }
      throw error;
    }
    this.stagedVolumes.add(staging);
  }

  /** The stage's and publish's publish_context once the volume is attached, if its driver attaches. */
  private async attachedContext(
    driver: CsiDriverObject | undefined,
    driverName: string,
    handle: string,
    uniqueName: string,
  ): Promise<Record<string, string> | undefined> {
    // Upstream's WaitForAttach: a driver that needs attaching (the default without a CSIDriver
    // object) is staged only once the external attacher marked its VolumeAttachment attached; the
    // attachment's metadata is the stage's and publish's publish_context.
    const attachRequired = driver?.spec?.attachRequired ?? true;
    // Upstream's verifyControllerAttachedVolume: the attach-detach controller lists the volume in
    // node.status.volumesAttached before anything is staged.
    if (attachRequired && this.opts.objects.node)
      await verifyControllerAttached(
        this.opts.objects.node.bind(this.opts.objects),
        this.opts.nodeName,
        uniqueName,
      );
    return attachRequired ? await this.attached(driverName, handle) : undefined;
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
   * for each, then NodeUnstageVolume for a volume it staged (or tried to) that no other pod
   * publishes or uses any more. A failure is thrown as upstream's UnmountVolume.TearDown /
   * UnmountDevice error, and what is left stays on disk for the next try.
   */
  async tearDownPod(uid: string): Promise<void> {
    await this.block.tearDownPod(uid);
    this.forgetPublishedBlocks(uid);
    const phase = this.unpublishPod(uid);
    this.unpublishPhases.add(phase);
    let devices: Set<string>;
    try {
      devices = await phase;
    } finally {
      this.unpublishPhases.delete(phase);
    }
    // Upstream's reconciler unmounts every pod volume due in one pass before it unmounts a
    // device: pods torn down together are all unpublished before anything is unstaged (the
    // order csi-hostpath-exchange.txt records). Only teardowns already running are waited for.
    await Promise.allSettled([...this.unpublishPhases]);
    for (const key of devices) {
      const [driver, handle] = JSON.parse(key) as [string, string];
      if (await this.publishedElsewhere(driver, handle)) continue;
      if ([...this.podDevices.values()].some((set) => set.has(key))) continue;
      // Another pod's teardown is unstaging it already.
      const running = this.unstaging.get(key);
      if (running) {
        await running;
        continue;
      }
      const work = this.unstage(driver, handle).finally(() => this.unstaging.delete(key));
      this.unstaging.set(key, work);
      await work;
    }
  }

  /** The pod's mapped block volumes are gone; a volume no other pod maps leaves the expansion's state too. */
  private forgetPublishedBlocks(uid: string): void {
    const gone: PublishedVolume[] = [];
    for (const [link, p] of this.publishedBlocks)
      if (p.podUid === uid) {
        this.publishedBlocks.delete(link);
        gone.push(p);
      }
    const still = new Set([...this.publishedBlocks.values()].map((p) => `${p.driver}^${p.volumeHandle}`));
    for (const p of gone)
      if (!still.has(`${p.driver}^${p.volumeHandle}`)) this.expansion.forget(p.driver, p.volumeHandle);
  }

  /** NodeUnpublishVolume of each of the pod's CSI volumes; the `[driver, handle]` keys it staged or used. */
  private async unpublishPod(uid: string): Promise<Set<string>> {
    const dir = csiPodVolumesDir(this.opts.rootDir, uid);
    for (const target of this.inUse.keys()) if (target.startsWith(`${dir}/`)) this.inUse.delete(target);
    const devices = new Set(this.podDevices.get(uid) ?? []);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const data = await this.readVolData(join(dir, name));
      if (!data) continue;
      await this.unpublish(uid, name, data);
      if (data.volumeLifecycleMode === 'Persistent')
        devices.add(JSON.stringify([data.driverName, data.volumeHandle]));
    }
    this.podDevices.delete(uid);
    return devices;
  }

  /** Pod teardowns still unpublishing. */
  private readonly unpublishPhases = new Set<Promise<Set<string>>>();
  /** `[driver, handle]` keys being unstaged now. */
  private readonly unstaging = new Map<string, Promise<void>>();

  /** UnmountVolume.TearDown: NodeUnpublishVolume of one pod volume, then its directory goes. */
  async unpublish(uid: string, name: string, data: VolData): Promise<void> {
    const volumeDir = csiPodVolumeDir(this.opts.rootDir, uid, name);
    const target = join(volumeDir, 'mount');
    const client = this.opts.drivers.client(data.driverName);
    if (!client)
      throw new Error(
        `UnmountVolume.TearDown failed for volume ${JSON.stringify(name)} : ${log(`Unmounter.TearDownAt failed to get CSI client: driver name ${data.driverName} not found in the list of registered CSI drivers`)}`,
      );
    try {
      await client.nodeUnpublishVolume({ volumeId: data.volumeHandle, targetPath: target });
    } catch (e) {
      throw new Error(
        `UnmountVolume.TearDown failed for volume ${JSON.stringify(name)} : ${log(`Unmounter.TearDownAt failed: ${csiOperationError('MountVolume.SetUp', name, e).message}`)}`,
        { cause: e },
      );
    }
    this.publishedClaims.delete(target);
    this.publishedInline.delete(target);
    await removeMountDir(volumeDir).catch((e: unknown) => {
      throw new Error(
        `UnmountVolume.TearDown failed for volume ${JSON.stringify(name)} : ${log(`Unmounter.TearDownAt failed to clean mount dir [${target}]: ${(e as Error).message}`)}`,
        { cause: e },
      );
    });
  }

  /** UnmountDevice: NodeUnstageVolume (when the driver stages), then the staging directory goes. */
  async unstage(driver: string, handle: string): Promise<void> {
    const staging = csiStagingPath(this.opts.rootDir, driver, handle);
    const client = this.opts.drivers.client(driver);
    if (!client)
      throw new Error(
        log(
          `attacher.UnmountDevice failed to create newCsiDriverClient: driver name ${driver} not found in the list of registered CSI drivers`,
        ),
      );
    if (await this.has(client, 'STAGE_UNSTAGE_VOLUME'))
      await client.nodeUnstageVolume({ volumeId: handle, stagingTargetPath: staging }).catch((e: unknown) => {
        throw new Error(
          log(
            `attacher.UnmountDevice failed: ${csiOperationError('MountVolume.MountDevice', handle, e).message}`,
          ),
          { cause: e },
        );
      });
    await removeMountDir(dirname(staging), 'globalmount');
    this.stagedVolumes.delete(staging);
    // Off the node: a later mount starts its expansion state afresh (upstream's ASOW drops the volume).
    this.expansion.forget(driver, handle);
  }

  /**
   * Takes what a restarted kubelet found on disk (csi-reconstruction.ts) into its state: each
   * pod's persistent volume is in use (node.status.volumesInUse keeps it) and its staging is
   * this pod's to undo. Nothing counts as staged or published: as upstream marks reconstructed
   * volumes uncertain, the next set-up of a pod still here stages and publishes again (drivers
   * take both as no-ops), and nothing is unpublished.
   */
  adopt(uid: string, name: string, data: VolData): void {
    if (data.volumeLifecycleMode !== 'Persistent') return;
    this.inUse.set(
      csiPublishPath(this.opts.rootDir, uid, name),
      `${CSI_PLUGIN_NAME}/${data.driverName}^${data.volumeHandle}`,
    );
    this.devicesOf(uid).add(JSON.stringify([data.driverName, data.volumeHandle]));
  }

  /** Whether any CSI volume of pod `uid` is published, staged for it or being set up. */
  holdsPod(uid: string): boolean {
    if (this.podDevices.get(uid)?.size) return true;
    return [
      ...this.publishedClaims.values(),
      ...this.publishedInline.values(),
      ...this.publishedBlocks.values(),
    ].some((p) => p.podUid === uid);
  }

  private devicesOf(uid: string): Set<string> {
    let set = this.podDevices.get(uid);
    if (!set) {
      set = new Set();
      this.podDevices.set(uid, set);
    }
    return set;
  }

  /** Staging paths staged by this kubelet since it started. */
  private readonly stagedVolumes = new Set<string>();
  /** Pod uid → the `[driver, handle]` keys of the volumes it staged or tried to. */
  private readonly podDevices = new Map<string, Set<string>>();
  private readonly publishedClaims = new Map<string, PublishedVolume>();
  /** Publish path → the claim volume's unique name (`kubernetes.io/csi/<driver>^<handle>`). */
  private readonly inUse = new Map<string, string>();

  /**
   * The persistent CSI volumes this node's pods use, as upstream's volume manager reports them in
   * node.status.volumesInUse (attachable volumes only: inline ones are not), each once, sorted.
   */
  volumesInUse(): string[] {
    return [...new Set(this.inUse.values())].sort();
  }
  /** Inline volumes published by this kubelet since it started. */
  private readonly publishedInline = new Map<string, PublishedVolume>();
  /** Pod device link → the block claim's volume mapped there (its device as targetPath). */
  private readonly publishedBlocks = new Map<string, PublishedVolume>();

  /**
   * The usage of each claim's volume published (a block claim's: mapped) here, from drivers with
   * GET_VOLUME_STATS (one entry per claim, as upstream's collector reports a claim once). A
   * driver that fails is left out of this round.
   */
  async claimVolumeStats(): Promise<ClaimVolumeStats[]> {
    const out = new Map<string, ClaimVolumeStats>();
    // Block claims too: upstream's collector reads the summary, where mapped volumes are measured.
    for (const p of [...this.publishedClaims.values(), ...this.publishedBlocks.values()]) {
      const key = `${p.namespace}/${p.claim}`;
      // An inline in-tree volume served through CSI has no claim to report.
      if (p.claim === undefined || out.has(key)) continue;
      const usage = await this.volumeUsage(p);
      if (!usage) continue;
      out.set(key, {
        namespace: p.namespace ?? '',
        claim: p.claim ?? '',
        capacityBytes: usage.capacityBytes,
        availableBytes: usage.availableBytes,
        usedBytes: usage.usedBytes,
        inodes: usage.inodes,
        inodesFree: usage.inodesFree,
        inodesUsed: usage.inodesUsed,
        ...(usage.abnormal !== undefined ? { abnormal: usage.abnormal } : {}),
      });
    }
    return [...out.values()];
  }

  /**
   * The pod's CSI volumes as the summary's pod volume stats give them (upstream's
   * volumeStatCalculator with the CSI mounter's and block mapper's metrics): by the pod's volume
   * name, a claim's with its claim, from drivers with GET_VOLUME_STATS.
   */
  async podVolumeStats(uid: string): Promise<Map<string, CsiVolumeUsage>> {
    const out = new Map<string, CsiVolumeUsage>();
    const all = [
      ...this.publishedClaims.values(),
      ...this.publishedInline.values(),
      ...this.publishedBlocks.values(),
    ];
    for (const p of all) {
      if (p.podUid !== uid) continue;
      const usage = await this.volumeUsage(p);
      if (usage) out.set(p.podVolumeName, usage);
    }
    return out;
  }

  private async volumeUsage(p: PublishedVolume): Promise<CsiVolumeUsage | undefined> {
    const client = this.opts.drivers.client(p.driver);
    if (!client) return undefined;
    try {
      if (!(await this.has(client, 'GET_VOLUME_STATS'))) return undefined;
      const { abnormal, ...usage } = await readCsiVolumeStats(client, p);
      return {
        ...usage,
        ...(this.opts.volumeHealth && abnormal !== undefined ? { abnormal } : {}),
        ...(p.claim ? { pvcRef: { name: p.claim, namespace: p.namespace ?? '' } } : {}),
      };
    } catch {
      // A driver that cannot answer now: its volume is missing from this round only.
      return undefined;
    }
  }

  /** Whether another pod's vol_data.json still names this volume. */
  private async publishedElsewhere(driver: string, handle: string): Promise<boolean> {
    for (const uid of await podDirectories(this.opts.rootDir)) {
      const dir = csiPodVolumesDir(this.opts.rootDir, uid);
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
    return readVolData(dir);
  }
}

/** A pod volume directory's vol_data.json, or undefined when it has none (or none that parses). */
export async function readVolData(dir: string): Promise<VolData | undefined> {
  const text = await readFile(join(dir, VOL_DATA_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as VolData;
  } catch {
    return undefined;
  }
}

/**
 * Upstream's removeMountDir: the (unmounted, empty) `mount` directory and vol_data.json go, then
 * the volume's directory. A directory still mounted or not empty is never removed with what it
 * holds (a driver that did not unmount keeps its data): that is an error, vol_data.json stays,
 * and the teardown is tried again.
 */
async function removeMountDir(volumeDir: string, mountName = 'mount'): Promise<void> {
  const mount = join(volumeDir, mountName);
  try {
    await rmdir(mount);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(log(`failed to remove dir [${mount}]: remove ${mount}: ${goErrnoText(e)}`), {
        cause: e,
      });
  }
  await rm(join(volumeDir, VOL_DATA_FILE), { force: true });
  await rmdir(volumeDir).catch(() => undefined);
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
