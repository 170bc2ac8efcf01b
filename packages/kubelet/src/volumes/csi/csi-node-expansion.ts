import {
  type AccessModeName,
  type CsiNodeClient,
  isCsiError,
  type VolumeCapability,
} from '@nodeagent/csi-client';
import { parseQuantity } from '@nodeagent/primitives';
import type { Pod } from '../../api/pod-types';
import type { EventType, PodEventRecorder } from '../../events/event-reasons';
import { csiOperationError } from './csi-operation-error';
import { type CsiSecretReader, csiSecrets } from './csi-secrets';
import type { ClaimCondition, ClaimObject, ClaimStatus, PersistentVolumeObject } from './csi-storage-objects';

/** Writes a claim's status as upstream's kubelet patches it during expansion, and its events. */
export interface ClaimStatusWriter {
  /** A JSON merge patch of the claim's status subresource (null removes a key); the updated claim. */
  patchClaimStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<ClaimObject>;
  /** An event about the claim (FileSystemResizeSuccessful); none when omitted. */
  recordClaimEvent?(claim: ClaimObject, type: EventType, reason: string, message: string): void;
}

/** A claim's volume published for a pod, as the expansion needs it. */
export interface ExpandableVolume {
  pod: Pod;
  claim: ClaimObject;
  pv: PersistentVolumeObject;
  client: CsiNodeClient;
  /** NodeExpandVolume's volume_path: the pod's mount, or a block volume's device (its publish path). */
  targetPath: string;
  stagingTargetPath?: string;
  /** A `volumeMode: Block` volume: expanded with a block capability, and a mapping, not a mount, fails. */
  block?: boolean;
  /** The pod mounts the claim read-only (its persistentVolumeClaim.readOnly): never expanded. */
  readOnly?: boolean;
}

/** The resize conditions upstream's MergeResizeConditionOnPVC replaces (the others are kept). */
const RESIZE_CONDITIONS = ['Resizing', 'FileSystemResizePending', 'ControllerResizeError', 'NodeResizeError'];
const STORAGE = 'storage';

/** upstream asCSIAccessModeV1, as NodeExpandVolume sends it (no multi-writer refinement). */
function expandAccessMode(mode: string | undefined): AccessModeName {
  switch (mode) {
    case 'ReadOnlyMany':
      return 'MULTI_NODE_READER_ONLY';
    case 'ReadWriteMany':
      return 'MULTI_NODE_MULTI_WRITER';
    case 'ReadWriteOncePod':
      return 'SINGLE_NODE_SINGLE_WRITER';
    default:
      return 'SINGLE_NODE_WRITER';
  }
}

/**
 * NodeExpandVolume's access type as upstream's CSI client builds it: `block` for a block volume
 * (upstream's fsType "block"), else `mount` with the PV's fsType and mount options.
 */
function expandAccessType(volume: ExpandableVolume): Pick<VolumeCapability, 'block' | 'mount'> {
  if (volume.block) return { block: {} };
  const csi = volume.pv.spec?.csi;
  return {
    mount: {
      ...(csi?.fsType ? { fsType: csi.fsType } : {}),
      ...(volume.pv.spec?.mountOptions?.length ? { mountFlags: volume.pv.spec.mountOptions } : {}),
    },
  };
}

/** gRPC codes upstream's CSI client treats as not final (the operation may still be running). */
const UNCERTAIN_CODES = new Set([
  'DEADLINE_EXCEEDED',
  'UNAVAILABLE',
  'CANCELLED',
  'ABORTED',
  'RESOURCE_EXHAUSTED',
]);
/** gRPC codes upstream's CSI client takes as an infeasible expansion (never retried). */
const INFEASIBLE_CODES = new Set(['INVALID_ARGUMENT', 'OUT_OF_RANGE']);

/** A driver's error as gRPC prints it (`rpc error: code = Internal desc = ...`), as upstream's messages carry it. */
function grpcText(e: unknown): string {
  return csiOperationError('MountVolume.SetUp', '', e).message;
}

/** The gRPC status name of a driver's error (`FAILED_PRECONDITION`); none for other failures. */
function grpcCode(e: unknown): string | undefined {
  return isCsiError(e) ? e.code : undefined;
}

/** A failure of the expander before the driver's call (no EXPAND_VOLUME, a missing secret): its message as is. */
class ExpanderError extends Error {}

/** Thrown when an expansion during the volume's first set-up fails: the mount fails with it. */
export class ExpandDuringMountError extends Error {
  readonly code = 'ExpandDuringMount';
}

/** A claim's and its volume's sizes in bytes, as the expansion compares them. */
interface Sizes {
  /** The PersistentVolume's spec.capacity: the size to expand to (upstream's NewSize). */
  pv: number;
  pvText: string;
  /** The claim's status.capacity. */
  claimStatus: number;
}

/**
 * Node volume expansion as upstream v1.36's kubelet does it (operation_generator's
 * expandVolumeDuringMount and nodeExpandVolume, and NodeExpander):
 * - During the mount, when the PersistentVolume's capacity is above the claim's status.capacity;
 *   a read-only claim is not expanded and FileSystemResizeFailed goes to the pod and the claim.
 * - In use, when the capacity is above the size this node last knew the volume at (upstream's
 *   persistentVolumeSize: the claim's status.capacity when first looked at after the mount, then
 *   each expansion's size), so that a ReadWriteMany volume another node expanded is expanded
 *   here too. Read-only claims are never expanded in use.
 * With a resizer that records allocatedResources or a resize status (NodeExpander), only a claim
 * left for the node (NodeResizePending or NodeResizeInProgress) is marked NodeResizeInProgress
 * and expanded, then given the volume's size with no resize conditions or status; a claim whose
 * status.capacity already holds the size and has no resize status (another node finished it) is
 * expanded without touching the claim. An older resizer's claim (neither field) is expanded and
 * its capacity set (legacyCallNodeExpandOnPlugin). NodeExpandVolume needs EXPAND_VOLUME; a block
 * volume's gets a block capability and its device as volume_path. Success posts
 * FileSystemResizeSuccessful to the pod and the claim. A driver's final error adds
 * NodeResizeError, or marks NodeResizeInfeasible for INVALID_ARGUMENT and OUT_OF_RANGE, and for
 * any final error once an earlier one failed while the claim asks for another size than the
 * volume's; FAILED_PRECONDITION means the driver cannot expand in use, which is not retried
 * while the volume stays on this node.
 */
export class CsiNodeExpansion {
  /** Volumes whose driver refused in-use expansion (upstream MarkForInUseExpansionError). */
  private readonly refusedInUse = new Set<string>();
  /** The size this node last knew each volume at, in bytes (upstream's persistentVolumeSize). */
  private readonly nodeSizes = new Map<string, number>();
  /** Volumes whose last expansion failed with a final error (upstream volumesWithFinalExpansionErrors). */
  private readonly failedFinal = new Set<string>();

  constructor(
    private readonly nodeName: string,
    private readonly status: ClaimStatusWriter | undefined,
    private readonly recordEvent: PodEventRecorder | undefined,
    private readonly secret?: CsiSecretReader,
  ) {}

  /**
   * Expands a claim grown while no pod on this node used it, as the volume is published: a
   * failure fails the mount (ExpandDuringMountError).
   */
  async expandDuringMount(volume: ExpandableVolume): Promise<void> {
    const sizes = this.sizes(volume);
    if (!sizes || sizes.claimStatus >= sizes.pv) return;
    if (volume.readOnly) return this.refuseReadOnly(volume);
    try {
      await this.expandOnPlugin(volume, sizes);
    } catch (e) {
      // Upstream's MountVolume and MapVolume operations word the failure each their own way.
      const operation = volume.block
        ? 'MapVolume.MarkVolumeAsMounted failed while expanding volume'
        : 'MountVolume.Setup failed while expanding volume';
      throw new ExpandDuringMountError(
        `${operation} for volume ${JSON.stringify(volumeName(volume))} : ${(e as Error).message}`,
      );
    }
  }

  /** Expands a volume in use whose PersistentVolume grew; a failure is the pod's VolumeResizeFailed event. */
  async expandInUse(volume: ExpandableVolume): Promise<void> {
    const sizes = volume.readOnly ? undefined : this.sizes(volume);
    if (!sizes) return;
    const key = volumeKey(volume);
    // Upstream InitializeClaimSize: the first look after the mount takes the claim's status.capacity.
    const known = this.nodeSizes.get(key) ?? sizes.claimStatus;
    this.nodeSizes.set(key, known);
    if (this.refusedInUse.has(key) || sizes.pv <= known) return;
    try {
      if (await this.expandOnPlugin(volume, sizes)) this.nodeSizes.set(key, sizes.pv);
    } catch (e) {
      this.recordEvent?.(
        volume.pod,
        'Warning',
        'VolumeResizeFailed',
        `NodeExpandVolume.NodeExpandVolume failed for volume ${JSON.stringify(volumeName(volume))} : ${(e as Error).message}`,
      );
    }
  }

  /** The volume left this node (unstaged or unmapped): what was known of its expansion goes with it. */
  forget(driver: string, volumeHandle: string): void {
    const key = expansionKey(driver, volumeHandle);
    this.refusedInUse.delete(key);
    this.nodeSizes.delete(key);
    this.failedFinal.delete(key);
  }

  private sizes(volume: ExpandableVolume): Sizes | undefined {
    const pvText = volume.pv.spec?.capacity?.[STORAGE];
    const claimText = volume.claim.status?.capacity?.[STORAGE];
    if (!pvText || !claimText || !this.status) return undefined;
    return {
      pv: parseQuantity(pvText, 'spec.capacity'),
      pvText,
      claimStatus: parseQuantity(claimText, 'status.capacity'),
    };
  }

  /** Upstream: a read-only volume's file system is not resized; the mount goes on. */
  private refuseReadOnly(volume: ExpandableVolume): void {
    const message = `MountVolume.NodeExpandVolume failed for volume ${JSON.stringify(volumeName(volume))} requested read-only file system`;
    this.recordEvent?.(volume.pod, 'Warning', 'FileSystemResizeFailed', message);
    this.status?.recordClaimEvent?.(volume.claim, 'Warning', 'FileSystemResizeFailed', message);
  }

  /**
   * NodeExpander.expandOnPlugin, or legacyCallNodeExpandOnPlugin for an older resizer's claim:
   * whether the expansion finished (false: the precheck held it, or the driver cannot expand in use).
   */
  private async expandOnPlugin(volume: ExpandableVolume, sizes: Sizes): Promise<boolean> {
    const resizeStatus = volume.claim.status?.allocatedResourceStatuses?.[STORAGE] ?? '';
    const recovery = volume.claim.status?.allocatedResources !== undefined || resizeStatus !== '';
    // NodeExpander.runPreCheck: the claim already at the size with no resize status was finished
    // elsewhere; otherwise only a claim the resizer left for the node.
    const alreadyUpdated = !recovery || (sizes.claimStatus >= sizes.pv && resizeStatus === '');
    if (
      recovery &&
      !alreadyUpdated &&
      resizeStatus !== 'NodeResizePending' &&
      resizeStatus !== 'NodeResizeInProgress'
    )
      return false;
    const key = volumeKey(volume);
    const requested = volume.claim.spec?.resources?.requests?.[STORAGE];
    const infeasibleOnFailure =
      recovery &&
      this.failedFinal.has(key) &&
      (requested === undefined || parseQuantity(requested, 'spec.resources.requests') !== sizes.pv);
    return this.expand(volume, sizes, {
      recovery,
      alreadyUpdated: recovery && alreadyUpdated,
      infeasibleOnFailure,
    });
  }

  private async expand(
    volume: ExpandableVolume,
    sizes: Sizes,
    plan: { recovery: boolean; alreadyUpdated: boolean; infeasibleOnFailure: boolean },
  ): Promise<boolean> {
    const status = this.status as ClaimStatusWriter;
    const namespace = volume.claim.metadata?.namespace ?? '';
    const name = volume.claim.metadata?.name ?? '';
    const key = volumeKey(volume);
    let claim = volume.claim;
    if (plan.recovery && !plan.alreadyUpdated)
      claim = await status.patchClaimStatus(namespace, name, {
        allocatedResourceStatuses: { [STORAGE]: 'NodeResizeInProgress' },
      });
    try {
      await this.callDriver(volume, sizes.pv);
    } catch (e) {
      const code = grpcCode(e);
      const error = new Error(
        e instanceof ExpanderError
          ? e.message
          : `Expander.NodeExpand failed to expand the volume : ${grpcText(e)}`,
      );
      // Upstream IsOperationFinishedError: all but a driver's uncertain answer (timeout, unavailable).
      // An older resizer's claim is left as it is (legacyCallNodeExpandOnPlugin marks nothing).
      if (plan.recovery && (!code || !UNCERTAIN_CODES.has(code))) {
        this.failedFinal.add(key);
        const infeasible = (code !== undefined && INFEASIBLE_CODES.has(code)) || plan.infeasibleOnFailure;
        await status.patchClaimStatus(namespace, name, failedStatus(claim, error, infeasible));
      }
      if (code === 'FAILED_PRECONDITION') {
        // The driver cannot expand a volume in use: not retried here, and the mount goes on.
        this.refusedInUse.add(key);
        return false;
      }
      throw error;
    }
    this.failedFinal.delete(key);
    const message = `MountVolume.NodeExpandVolume succeeded for volume ${JSON.stringify(volumeName(volume))} ${this.nodeName}`;
    this.recordEvent?.(volume.pod, 'Normal', 'FileSystemResizeSuccessful', message);
    status.recordClaimEvent?.(claim, 'Normal', 'FileSystemResizeSuccessful', message);
    // A claim already at the size (finished elsewhere, or an older resizer's) is left as it is.
    if (plan.alreadyUpdated || sizes.claimStatus >= sizes.pv) return true;
    // MarkFSResizeFinished: the claim has the volume's size, no resize conditions, no resize status.
    await status.patchClaimStatus(namespace, name, {
      capacity: { ...claim.status?.capacity, [STORAGE]: sizes.pvText },
      conditions: keptConditions(claim.status, []),
      ...(claim.status?.allocatedResourceStatuses?.[STORAGE] !== undefined
        ? { allocatedResourceStatuses: { [STORAGE]: null } }
        : {}),
    });
    return true;
  }

  /** The driver's NodeExpandVolume, after its EXPAND_VOLUME capability and the expand secret. */
  private async callDriver(volume: ExpandableVolume, requiredBytes: number): Promise<void> {
    const driver = volume.pv.spec?.csi?.driver ?? '';
    if (!(await volume.client.nodeGetCapabilities()).includes('EXPAND_VOLUME'))
      throw new ExpanderError(
        `Expander.NodeExpand found CSI plugin kubernetes.io/csi/${driver} to not support node expansion`,
      );
    const secrets = await csiSecrets(
      this.secret,
      volume.pv.spec?.csi?.nodeExpandSecretRef,
      'NodeExpandSecretRef',
    ).catch((e: Error) => {
      throw new ExpanderError(e.message);
    });
    await volume.client.nodeExpandVolume({
      ...(secrets ? { secrets } : {}),
      volumeId: volume.pv.spec?.csi?.volumeHandle ?? '',
      volumePath: volume.targetPath,
      capacityRange: { requiredBytes },
      ...(volume.stagingTargetPath ? { stagingTargetPath: volume.stagingTargetPath } : {}),
      volumeCapability: {
        accessMode: { mode: expandAccessMode(volume.pv.spec?.accessModes?.[0]) },
        ...expandAccessType(volume),
      },
    });
  }
}

/** The volume's node-wide key, as upstream's unique volume name ends: `<driver>^<handle>`. */
function volumeKey(volume: ExpandableVolume): string {
  return expansionKey(volume.pv.spec?.csi?.driver ?? '', volume.pv.spec?.csi?.volumeHandle ?? '');
}

function expansionKey(driver: string, volumeHandle: string): string {
  return `${driver}^${volumeHandle}`;
}

/** The volume's spec name in upstream's messages: the PersistentVolume's. */
function volumeName(volume: ExpandableVolume): string {
  return volume.pv.metadata?.name ?? '';
}

/** MarkNodeExpansionFailedCondition, or MarkNodeExpansionInfeasible (which also sets the resize status). */
function failedStatus(claim: ClaimObject, error: Error, infeasible: boolean): Record<string, unknown> {
  const condition: ClaimCondition = {
    type: 'NodeResizeError',
    status: 'True',
    lastTransitionTime: `${new Date().toISOString().slice(0, 19)}Z`,
    message: `failed to expand pvc with ${error.message}`,
  };
  return {
    conditions: keptConditions(claim.status, [condition], true),
    ...(infeasible ? { allocatedResourceStatuses: { [STORAGE]: 'NodeResizeInfeasible' } } : {}),
  };
}

/**
 * Upstream MergeResizeConditionOnPVC: the claim's non-resize conditions, then `added`; with
 * keepOld, resize conditions of other types stay too.
 */
function keptConditions(
  status: ClaimStatus | undefined,
  added: ClaimCondition[],
  keepOld = false,
): ClaimCondition[] {
  const addedTypes = new Set(added.map((c) => c.type));
  const kept = (status?.conditions ?? []).filter(
    (c) => !RESIZE_CONDITIONS.includes(c.type) || (keepOld && !addedTypes.has(c.type)),
  );
  return [...kept, ...added];
}
