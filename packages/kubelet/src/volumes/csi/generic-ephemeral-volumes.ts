import type { Pod, Volume } from '../../api/pod-types';
import type { ClaimObject } from './csi-storage-objects';

/** The claim a pod volume reads: its own claimName, or a generic ephemeral volume's `<pod>-<volume>`. */
export interface PodClaimReference {
  claimName: string;
  readOnly: boolean;
  /** A generic ephemeral volume (`volume.ephemeral`): its claim must be the pod's own. */
  ephemeral: boolean;
}

/**
 * The claim behind a `persistentVolumeClaim` or generic `ephemeral` volume, as upstream's
 * populator resolves it (ephemeral.VolumeClaimName: the pod's name, `-`, the volume's name).
 */
export function podClaimReference(pod: Pod, volume: Volume): PodClaimReference {
  if (volume.persistentVolumeClaim)
    return {
      claimName: volume.persistentVolumeClaim.claimName,
      readOnly: volume.persistentVolumeClaim.readOnly === true,
      ephemeral: false,
    };
  return { claimName: `${pod.metadata.name ?? ''}-${volume.name}`, readOnly: false, ephemeral: true };
}

/**
 * Upstream ephemeral.VolumeIsForPod: a generic ephemeral volume's claim must be in the pod's
 * namespace and controlled by the pod (the ephemeral volume controller's ownerReference), else
 * another object's claim of that name would be mounted into the pod.
 */
export function checkClaimIsForPod(pod: Pod, claim: ClaimObject): void {
  const namespace = pod.metadata.namespace ?? 'default';
  const controlled = (claim.metadata?.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.uid === pod.metadata.uid,
  );
  if (claim.metadata?.namespace !== namespace || !controlled)
    throw new Error(
      `PVC ${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''} was not created for pod ${namespace}/${pod.metadata.name ?? ''} (pod is not owner)`,
    );
}
