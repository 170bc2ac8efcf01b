import {
  type AllocationFailure,
  allocateClaim,
  type ClaimAllocation,
  deviceKey,
  devicesForNode,
} from './dra-allocator';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import { type FilterResult, matchesNodeAffinity } from './scheduler-filters';

type Obj = Record<string, unknown>;

const CLAIMS = findResourceType('resource.k8s.io', 'v1', 'resourceclaims') as ResourceType;
const SLICES = findResourceType('resource.k8s.io', 'v1', 'resourceslices') as ResourceType;
const CLASSES = findResourceType('resource.k8s.io', 'v1', 'deviceclasses') as ResourceType;

/** The finalizer the scheduler puts on a claim it allocates; the resourceclaim controller removes it. */
export const CLAIM_PROTECTION_FINALIZER = 'resource.kubernetes.io/delete-protection';

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/**
 * The ResourceClaim names a pod uses, in spec order (resourceclaim.Name): a direct
 * `resourceClaimName`, or the generated claim named in `status.resourceClaimStatuses` (an entry
 * whose name is unset means none is needed); `undefined` for a template claim not created yet.
 */
export function podClaimNames(pod: KubeObject): { podClaim: string; claim: string | null | undefined }[] {
  const statuses = list((pod.status as Obj | undefined)?.resourceClaimStatuses);
  return list((pod.spec as Obj | undefined)?.resourceClaims).map((pc) => {
    const podClaim = String(pc.name);
    if (pc.resourceClaimName) return { podClaim, claim: String(pc.resourceClaimName) };
    const st = statuses.find((s) => s.name === podClaim);
    return { podClaim, claim: st ? ((st.resourceClaimName as string | undefined) ?? null) : undefined };
  });
}

/** Whether a claim was generated for the pod (its controller owner is the pod). */
export function claimIsForPod(claim: KubeObject, pod: KubeObject): boolean {
  return (claim.metadata.ownerReferences ?? []).some(
    (r) => r.uid === pod.metadata.uid && r.controller === true,
  );
}

/** One scheduling cycle's DRA part for a pod with claims (DynamicResources' PreFilter, Filter, Reserve and PreBind). */
export interface DraCycle {
  /** Why `node` cannot run the pod's claims, or undefined when it can. */
  filter(node: KubeObject): FilterResult | undefined;
  /** Write the allocations found for `nodeName` and reserve every claim for the pod. */
  reserve(nodeName: string): void;
}

/**
 * Start the DRA part of a cycle: `undefined` for a pod without claims; DynamicResources'
 * PreEnqueue rejection (upstream's texts, in its order) when a claim is not created yet, missing,
 * going away or not the pod's; else the cycle.
 */
export function startDraCycle(registry: ResourceRegistry, pod: KubeObject): DraCycle | string | undefined {
  const names = podClaimNames(pod);
  if (names.length === 0) return undefined;
  const ns = pod.metadata.namespace as string;
  const claims: KubeObject[] = [];
  for (const { podClaim, claim } of names) {
    if (claim === null) continue;
    if (claim === undefined) return `pod "${ns}/${pod.metadata.name}": ResourceClaim not created yet`;
    const found = registry.find(CLAIMS, ns, claim);
    if (!found) return `resourceclaim.resource.k8s.io "${claim}" not found`;
    if (found.metadata.deletionTimestamp) return `resourceclaim "${claim}" is being deleted`;
    const generated = !list((pod.spec as Obj).resourceClaims).find((pc) => pc.name === podClaim)
      ?.resourceClaimName;
    if (generated && !claimIsForPod(found, pod))
      return `ResourceClaim ${ns}/${claim} was not created for pod ${ns}/${pod.metadata.name} (pod is not owner)`;
    claims.push(found);
  }
  const slices = registry.list(SLICES, undefined);
  const classes = new Map(registry.list(CLASSES, undefined).map((c) => [c.metadata.name as string, c]));
  const mine = new Set(claims.map((c) => c.metadata.uid));
  const inUse = new Set<string>();
  for (const c of registry.list(CLAIMS, undefined)) {
    if (mine.has(c.metadata.uid)) continue;
    for (const r of list(
      (((c.status as Obj | undefined)?.allocation as Obj | undefined)?.devices as Obj | undefined)?.results,
    ))
      if (r.adminAccess !== true) inUse.add(deviceKey(r as { driver: string; pool: string; device: string }));
  }
  const planned = new Map<string, Map<string, ClaimAllocation>>();

  return {
    filter(node) {
      const devices = devicesForNode(slices, node);
      const taken = new Set(inUse);
      const plan = new Map<string, ClaimAllocation>();
      for (const claim of claims) {
        const allocation = (claim.status as Obj | undefined)?.allocation as Obj | undefined;
        if (allocation) {
          const selector = allocation.nodeSelector as Obj | undefined;
          const probe = {
            metadata: {},
            spec: {
              affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: selector } },
            },
          };
          if (selector && !matchesNodeAffinity(probe as KubeObject, node))
            return { reasons: ['resourceclaim not available on the node'], unresolvable: true };
          continue;
        }
        const got: ClaimAllocation | AllocationFailure = allocateClaim(claim, node, devices, classes, taken);
        if ('reason' in got) return { reasons: [got.reason], unresolvable: got.unresolvable };
        for (const r of got.devices.results)
          taken.add(deviceKey(r as { driver: string; pool: string; device: string }));
        plan.set(claim.metadata.uid as string, got);
      }
      planned.set(node.metadata.name as string, plan);
      return undefined;
    },
    reserve(nodeName) {
      const plan = planned.get(nodeName) ?? new Map<string, ClaimAllocation>();
      for (const claim of claims) {
        const allocation = plan.get(claim.metadata.uid as string);
        let current = registry.get(CLAIMS, ns, claim.metadata.name as string);
        if (allocation && !(current.metadata.finalizers ?? []).includes(CLAIM_PROTECTION_FINALIZER))
          current = registry.update(CLAIMS, ns, claim.metadata.name as string, {
            ...current,
            metadata: {
              ...current.metadata,
              finalizers: [...(current.metadata.finalizers ?? []), CLAIM_PROTECTION_FINALIZER],
            },
          });
        const status = (current.status ?? {}) as Obj;
        const reservedFor = list(status.reservedFor);
        if (!allocation && reservedFor.some((r) => r.uid === pod.metadata.uid)) continue;
        registry.update(
          CLAIMS,
          ns,
          claim.metadata.name as string,
          {
            ...current,
            status: {
              ...status,
              ...(allocation ? { allocation } : {}),
              reservedFor: [
                ...reservedFor.filter((r) => r.uid !== pod.metadata.uid),
                { resource: 'pods', name: pod.metadata.name, uid: pod.metadata.uid },
              ],
            },
          },
          'status',
        );
      }
    },
  };
}
