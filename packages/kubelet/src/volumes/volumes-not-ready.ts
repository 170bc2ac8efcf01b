import { KubeletError, VolumeSetupError } from '../errors';

/**
 * Some of a pod's volumes are not mounted yet (upstream's WaitForAttachAndMount failing): the pod
 * waits, Pending with its containers in ContainerCreating. `events` are the FailedMount messages
 * this try produced (a mount that failed now, a volume no plugin takes); `retryAfterMs`, when set,
 * is when the next mount may be tried (the mount back-off).
 */
export class PodVolumesNotReadyError extends VolumeSetupError {
  /** The event messages of this try, in the order upstream posts them (reason: volumeEventReason). */
  readonly events: string[];
  /** When a mount may be tried again, if a back-off holds one. */
  readonly retryAfterMs: number | undefined;

  constructor(unmounted: string[], events: string[], retryAfterMs: number | undefined) {
    super('spec.volumes', unmounted, `volumes not mounted: [${unmounted.join(' ')}]`);
    this.events = events;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The reason upstream posts a failed volume step's event under: its operation generator's
 * MapVolume operations (a Block claim's SetUpDevice, MapPodDevice, the expansion while mapping)
 * post FailedMapVolume, everything else FailedMount. The message starts with the operation.
 */
export function volumeEventReason(message: string): 'FailedMapVolume' | 'FailedMount' {
  return message.startsWith('MapVolume.') ? 'FailedMapVolume' : 'FailedMount';
}

/** WaitForAttachAndMount's three volume lists as its errors print them (Go's %v of sorted names). */
function volumeLists(unmounted: string[], unattached: string[], notProcessed: string[]): string {
  const list = (names: string[]) => `[${[...names].sort().join(' ')}]`;
  return `unmounted volumes=${list(unmounted)}, unattached volumes=${list(unattached)}, failed to process volumes=${list(notProcessed)}`;
}

/** Upstream kubelet SyncPod's event for a failed volume wait that did not time out (volume_manager.go). */
export function unableToMountMessage(
  unmounted: string[],
  unattached: string[],
  notProcessed: string[],
  errors: string[],
): string {
  return `Unable to attach or mount volumes: ${volumeLists(unmounted, unattached, notProcessed)}: ${[...errors].sort().join('; ')}`;
}

/** Upstream's VolumeAttachmentLimitExceededReason: the reason a pod rejected for it carries. */
export const volumeAttachmentLimitExceededReason = 'VolumeAttachmentLimitExceeded';

/**
 * Upstream's VolumeAttachLimitExceededError: the pod's wait for its volumes timed out and a volume
 * it waited for could not be attached because the node's attach slots are used up (its driver
 * said ResourceExhausted). The pod sync rejects the pod (Failed, VolumeAttachmentLimitExceeded)
 * instead of waiting on.
 */
export class VolumeAttachLimitExceededError extends KubeletError {
  constructor(unmounted: string[], unattached: string[], notProcessed: string[]) {
    // The wait's own error is the context deadline of wait.PollUntilContextTimeout.
    super(
      'VOLUME_ATTACH_LIMIT_EXCEEDED',
      'spec.volumes',
      unattached,
      'the node has no volume attachment left',
      `Node has reached its volume attachment limit, rejecting pod. ${volumeLists(unmounted, unattached, notProcessed)}: context deadline exceeded`,
    );
  }
}
