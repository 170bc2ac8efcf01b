import { CodedError } from '@nodeagent/primitives';
import type { NodeVolumesObject } from './csi-storage-objects';

/**
 * A volume the attach-detach controller has not attached to this node yet (upstream's
 * verifyControllerAttachedVolume failing): the pod's volume counts as unattached, and it is tried
 * again, as upstream's reconciler does, without a FailedMount event.
 */
export class VolumeNotAttachedError extends CodedError {
  constructor(message: string, options?: ErrorOptions) {
    super('VOLUME_NOT_ATTACHED', message, options);
  }
}

/**
 * Upstream's verifyControllerAttachedVolume for a volume that needs attaching: the kubelet must
 * have reported it in node.status.volumesInUse, and the controller must list it in
 * node.status.volumesAttached; each failure in upstream's words.
 */
export async function verifyControllerAttached(
  readNode: (name: string) => Promise<NodeVolumesObject>,
  nodeName: string,
  uniqueName: string,
): Promise<void> {
  let node: NodeVolumesObject;
  try {
    node = await readNode(nodeName);
  } catch (e) {
    throw new VolumeNotAttachedError(
      `VerifyControllerAttachedVolume failed fetching node from API server: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!(node.status?.volumesInUse ?? []).includes(uniqueName))
    throw new VolumeNotAttachedError(
      "Volume has not been added to the list of VolumesInUse in the node's volume status",
    );
  if (!(node.status?.volumesAttached ?? []).some((v) => v.name === uniqueName))
    throw new VolumeNotAttachedError('Volume not attached according to node status');
}
