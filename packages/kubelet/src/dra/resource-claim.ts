import { CodedError } from '@nodeagent/primitives';
import type { ObjectMeta, Pod, PodResourceClaim } from '../api/pod-types';

/** One allocated device of a claim (resource.k8s.io/v1 DeviceRequestAllocationResult), as the kubelet reads it. */
export interface DeviceAllocationResult {
  request: string;
  driver: string;
  pool: string;
  device: string;
  shareID?: string;
}

/** A resource.k8s.io/v1 ResourceClaim, as far as the kubelet reads it. */
export interface ResourceClaim {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: {
    allocation?: { devices?: { results?: DeviceAllocationResult[] } };
    reservedFor?: { resource?: string; name?: string; uid?: string; apiGroup?: string }[];
  };
}

/**
 * A claim the pod cannot use (yet): not created, not the pod's, not reserved for it, not
 * allocated. Its message is upstream's, as it appears in the FailedPrepareDynamicResources event.
 */
export class ResourceClaimUseError extends CodedError {
  constructor(message: string) {
    super('DRA_CLAIM_UNUSABLE', message);
  }
}

function podRef(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/**
 * The ResourceClaim's name for one entry of spec.resourceClaims (upstream resourceclaim.Name):
 * resourceClaimName as given, or the claim the resourceclaim controller recorded in
 * status.resourceClaimStatuses for a template (`undefined` there: no claim is needed). Claims made
 * from a template must be owned by the pod (`mustCheckOwner`).
 */
export function claimName(pod: Pod, podClaim: PodResourceClaim): { name?: string; mustCheckOwner: boolean } {
  if (podClaim.resourceClaimName !== undefined)
    return { name: podClaim.resourceClaimName, mustCheckOwner: false };
  if (podClaim.resourceClaimTemplateName !== undefined) {
    const status = pod.status?.resourceClaimStatuses?.find((s) => s.name === podClaim.name);
    if (status) return { name: status.resourceClaimName, mustCheckOwner: true };
    throw new ResourceClaimUseError(`pod "${podRef(pod)}": ResourceClaim not created yet`);
  }
  throw new ResourceClaimUseError(
    `pod "${podRef(pod)}", spec.resourceClaim ${JSON.stringify(podClaim.name)}: none of the supported fields are set`,
  );
}

/** The pod's claims as spec.resourceClaims lists them, plus the scheduler's extended-resource claim (DRAExtendedResource). */
export function podResourceClaims(pod: Pod, extendedResources: boolean): PodResourceClaim[] {
  const claims = pod.spec.resourceClaims ?? [];
  const extended = pod.status?.extendedResourceClaimStatus;
  if (!extendedResources || !extended) return claims;
  return [...claims, { name: '', resourceClaimName: extended.resourceClaimName }];
}

/** Upstream resourceclaim.IsForPod: a claim made from a template belongs to (is controlled by) its pod. */
export function checkClaimIsForPod(pod: Pod, claim: ResourceClaim): void {
  const controller = claim.metadata.ownerReferences?.find((ref) => ref.controller === true);
  if (claim.metadata.namespace !== pod.metadata.namespace || controller?.uid !== pod.metadata.uid)
    throw new ResourceClaimUseError(
      `ResourceClaim ${claim.metadata.namespace ?? ''}/${claim.metadata.name ?? ''} was not created for pod ${podRef(pod)} (pod is not owner)`,
    );
}

/** Upstream resourceclaim.IsReservedForPod: the pod's uid is among status.reservedFor. */
export function isReservedForPod(pod: Pod, claim: ResourceClaim): boolean {
  return (claim.status?.reservedFor ?? []).some((ref) => ref.uid === pod.metadata.uid);
}

/**
 * The drivers of an allocated claim's devices (upstream newClaimInfoFromClaim); throws upstream's
 * "not allocated" for a claim the scheduler has not allocated.
 */
export function allocatedDrivers(claim: ResourceClaim): string[] {
  const allocation = claim.status?.allocation;
  if (!allocation) throw new ResourceClaimUseError('not allocated');
  return [...new Set((allocation.devices?.results ?? []).map((result) => result.driver))];
}
