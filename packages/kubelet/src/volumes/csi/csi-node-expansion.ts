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

/**
 * Online volume expansion as upstream v1.36's kubelet does it (operation_generator's
 * nodeExpandVolume and NodeExpander): when the PersistentVolume's capacity is above the claim's
 * status.capacity, and the external resizer left the claim for the node (allocatedResourceStatuses
 * storage NodeResizePending or NodeResizeInProgress; an old resizer that sets neither
 * allocatedResources nor a status: FileSystemResizePending), mark the claim
 * NodeResizeInProgress, call NodeExpandVolume (the driver must have EXPAND_VOLUME; a block
 * volume's with a block capability and its device as volume_path), then set
 * status.capacity to the volume's size, drop the resize conditions and the resize status, and post
 * FileSystemResizeSuccessful to the pod and the claim. A driver error adds NodeResizeError
 * (INVALID_ARGUMENT and OUT_OF_RANGE also mark NodeResizeInfeasible); FAILED_PRECONDITION means
 * the driver cannot expand in use, which is not retried on this node.
 */
export class CsiNodeExpansion {
  /** Volumes whose driver refused in-use expansion (upstream MarkForInUseExpansionError). */
  private readonly refusedInUse = new Set<string>();

  constructor(
    private readonly nodeName: string,
    private readonly status: ClaimStatusWriter | undefined,
    private readonly recordEvent: PodEventRecorder | undefined,
    private readonly secret?: CsiSecretReader,
  ) {}

  /**
   * Expands `volume` when its claim asks for it. `duringMount`: the volume was published by this
   * set-up, and a failure fails the mount (ExpandDuringMountError); otherwise it is the volume in
   * use, and a failure is the pod's VolumeResizeFailed event.
   */
  async expandIfNeeded(volume: ExpandableVolume, duringMount: boolean): Promise<void> {
    const pvName = volume.pv.metadata?.name ?? '';
    const newText = volume.pv.spec?.capacity?.[STORAGE];
    const oldText = volume.claim.status?.capacity?.[STORAGE];
    if (!newText || !oldText || !this.status) return;
    if (parseQuantity(oldText, 'status.capacity') >= parseQuantity(newText, 'spec.capacity')) return;
    const key = `${volume.pv.spec?.csi?.driver}^${volume.pv.spec?.csi?.volumeHandle}`;
    if (this.refusedInUse.has(key)) return;
    const resizeStatus = volume.claim.status?.allocatedResourceStatuses?.[STORAGE] ?? '';
    const recovery = volume.claim.status?.allocatedResources !== undefined || resizeStatus !== '';
    // NodeExpander.runPreCheck: only a claim the resizer left for the node.
    if (recovery && resizeStatus !== 'NodeResizePending' && resizeStatus !== 'NodeResizeInProgress') return;
    try {
      await this.expand(volume, newText, recovery, key);
    } catch (e) {
      const message = (e as Error).message;
      // Upstream's MountVolume and MapVolume operations word the failure each their own way.
      const operation = volume.block
        ? 'MapVolume.MarkVolumeAsMounted failed while expanding volume'
        : 'MountVolume.Setup failed while expanding volume';
      if (duringMount)
        throw new ExpandDuringMountError(`${operation} for volume ${JSON.stringify(pvName)} : ${message}`);
      this.recordEvent?.(
        volume.pod,
        'Warning',
        'VolumeResizeFailed',
        `NodeExpandVolume.NodeExpandVolume failed for volume ${JSON.stringify(pvName)} : ${message}`,
      );
    }
  }

  private async expand(
    volume: ExpandableVolume,
    newSize: string,
    recovery: boolean,
    key: string,
  ): Promise<void> {
    const status = this.status as ClaimStatusWriter;
    const namespace = volume.claim.metadata?.namespace ?? '';
    const name = volume.claim.metadata?.name ?? '';
    let claim = volume.claim;
    if (recovery)
      claim = await status.patchClaimStatus(namespace, name, {
        allocatedResourceStatuses: { [STORAGE]: 'NodeResizeInProgress' },
      });
    const driver = volume.pv.spec?.csi?.driver ?? '';
    try {
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
        capacityRange: { requiredBytes: parseQuantity(newSize, 'spec.capacity') },
        ...(volume.stagingTargetPath ? { stagingTargetPath: volume.stagingTargetPath } : {}),
        volumeCapability: {
          accessMode: { mode: expandAccessMode(volume.pv.spec?.accessModes?.[0]) },
          ...expandAccessType(volume),
        },
      });
    } catch (e) {
      const code = grpcCode(e);
      const error = new Error(
        e instanceof ExpanderError
          ? e.message
          : `Expander.NodeExpand failed to expand the volume : ${grpcText(e)}`,
      );
      // Upstream IsOperationFinishedError: all but a driver's uncertain answer (timeout, unavailable).
      if (!code || !UNCERTAIN_CODES.has(code))
        await status.patchClaimStatus(namespace, name, this.failedStatus(claim, error, code, recovery));
      if (code === 'FAILED_PRECONDITION') {
        // The driver cannot expand a volume in use: not retried here, and the mount goes on.
        this.refusedInUse.add(key);
        return;
      }
      throw error;
    }
    const pvName = volume.pv.metadata?.name ?? '';
    const message = `MountVolume.NodeExpandVolume succeeded for volume ${JSON.stringify(pvName)} ${this.nodeName}`;
    this.recordEvent?.(volume.pod, 'Normal', 'FileSystemResizeSuccessful', message);
    status.recordClaimEvent?.(claim, 'Normal', 'FileSystemResizeSuccessful', message);
    // MarkFSResizeFinished: the claim has the volume's size, no resize conditions, no resize status.
    await status.patchClaimStatus(namespace, name, {
      capacity: { ...claim.status?.capacity, [STORAGE]: newSize },
      conditions: keptConditions(claim.status, []),
      ...(claim.status?.allocatedResourceStatuses?.[STORAGE] !== undefined
        ? { allocatedResourceStatuses: { [STORAGE]: null } }
        : {}),
    });
  }

  /** MarkNodeExpansionFailedCondition / MarkNodeExpansionInfeasible (old resizers: the condition only). */
  private failedStatus(
    claim: ClaimObject,
    error: Error,
    code: string | undefined,
    recovery: boolean,
  ): Record<string, unknown> {
    const condition: ClaimCondition = {
      type: 'NodeResizeError',
      status: 'True',
      lastTransitionTime: `${new Date().toISOString().slice(0, 19)}Z`,
      message: `failed to expand pvc with ${error.message}`,
    };
    return {
      conditions: keptConditions(claim.status, [condition], true),
      ...(recovery && code && INFEASIBLE_CODES.has(code)
        ? { allocatedResourceStatuses: { [STORAGE]: 'NodeResizeInfeasible' } }
        : {}),
    };
  }
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
