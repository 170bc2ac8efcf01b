import type { KubeletLogger } from '../../kubelet-logger';
import type { CsiStorageObjects, VolumeAttachmentObject } from './csi-storage-objects';
import { attachmentName } from './csi-volume-paths';

/** gRPC's ResourceExhausted: the code the external attacher writes into `attachError.errorCode`. */
export const GRPC_RESOURCE_EXHAUSTED = 8;

/** Upstream's isResourceExhaustError (a name this package keeps for error guards): the attachment failed with ResourceExhausted. */
export function attachFailedResourceExhausted(attachment: VolumeAttachmentObject | undefined): boolean {
  return attachment?.status?.attachError?.errorCode === GRPC_RESOURCE_EXHAUSTED;
}

/** What the check reads and calls. */
export interface CsiExhaustedResourceOptions {
  objects: Pick<CsiStorageObjects, 'volumeAttachment'>;
  nodeName: string;
  /** The driver's CSIDriver `nodeAllocatableUpdatePeriodSeconds` in ms; 0 when unset or no CSIDriver. */
  periodMs: (driver: string) => number;
  /** Upstream's updateCSIDriver: NodeGetInfo now, its count into the CSINode (failures logged there). */
  updateDriver: (driver: string) => Promise<void>;
  logger: KubeletLogger;
}

/**
 * Upstream's csiPlugin.VerifyExhaustedResource (MutableCSINodeAllocatableCount): after a pod's
 * wait for its volumes timed out, whether a volume still unattached failed to attach because its
 * node has no attach slot left. Only drivers whose CSIDriver sets
 * `nodeAllocatableUpdatePeriodSeconds` opt in; their VolumeAttachment must carry the external
 * attacher's ResourceExhausted `attachError`. Then the driver's allocatable count is read again at
 * once, not at its next period, and the pod is rejected (VolumeAttachmentLimitExceeded) so its
 * controller can place a new one elsewhere.
 */
export class CsiExhaustedResource {
  constructor(private readonly options: CsiExhaustedResourceOptions) {}

  /** Whether this unattached volume of the driver failed to attach for want of a slot; if so its count is read again first. */
  async verify(source: { driver: string; volumeHandle: string }): Promise<boolean> {
    const { driver, volumeHandle } = source;
    if (this.options.periodMs(driver) <= 0) return false;
    const name = attachmentName(volumeHandle, driver, this.options.nodeName);
    let attachment: VolumeAttachmentObject;
    try {
      attachment = await this.options.objects.volumeAttachment(name);
    } catch (error) {
      this.options.logger.error(
        { err: (error as Error).message, attachmentName: name },
        'Failed to get volume attachment',
      );
      return false;
    }
    if (!attachFailedResourceExhausted(attachment)) return false;
    await this.options.updateDriver(driver);
    return true;
  }
}
