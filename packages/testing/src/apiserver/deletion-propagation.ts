import { invalid } from './api-error';
import type { KubeObject } from './kube-object';
import type { ResourceRegistry } from './resource-registry';
import { findResourceTypeByKind, type ResourceType, resourceKey } from './resource-types';

/** metav1.DeletionPropagation. */
export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

/** The dependents the garbage collector handles: pods (of ReplicaSets) and ReplicaSets (of Deployments). */
export const DEPENDENT_TYPES: readonly ResourceType[] = [
  findResourceTypeByKind('v1', 'Pod') as ResourceType,
  findResourceTypeByKind('apps/v1', 'ReplicaSet') as ResourceType,
];

/** The DeleteOptions' propagationPolicy (query or body), or orphanDependents; undefined when unset. */
export function propagationPolicyOf(
  query: string | null,
  body: { propagationPolicy?: unknown; orphanDependents?: unknown } | undefined,
): PropagationPolicy | undefined {
  const value = query ?? body?.propagationPolicy;
  if (value === undefined || value === null || value === '') {
    if (body?.orphanDependents === true) return 'Orphan';
    if (body?.orphanDependents === false) return 'Background';
    return undefined;
  }
  if (value === 'Background' || value === 'Foreground' || value === 'Orphan') return value;
  // ValidateDeleteOptions: 422 for the DeleteOptions kind, as upstream.
  throw invalid('DeleteOptions', 'meta.k8s.io', '', [
    {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: "Foreground", "Background", "Orphan"`,
      field: 'propagationPolicy',
    },
  ]);
}

/** Pods and ReplicaSets whose ownerReferences name `uid`. */
export function dependentsOf(
  registry: ResourceRegistry,
  uid: string,
): { rt: ResourceType; object: KubeObject }[] {
  const out: { rt: ResourceType; object: KubeObject }[] = [];
  for (const rt of DEPENDENT_TYPES)
    for (const object of registry.store.list(resourceKey(rt)))
      if ((object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ rt, object });
  return out;
}

/**
 * What the API server does before deleting an object with a propagation policy, when the
 * garbage collector runs: Orphan takes the object's uid out of its dependents' ownerReferences
 * (upstream does it through the `orphan` finalizer; the result is the same); Foreground, when
 * there are dependents, adds the `foregroundDeletion` finalizer so the delete only sets
 * deletionTimestamp and the collector deletes the dependents first, then removes the finalizer.
 * Background (the default) needs nothing here.
 */
export function prepareDeletion(
  registry: ResourceRegistry,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  policy: PropagationPolicy,
): void {
  if (policy === 'Background' || rt.kind === 'Pod') return;
  const owner = registry.get(rt, namespace, name);
  const uid = owner.metadata.uid as string;
  const dependents = dependentsOf(registry, uid);
  if (policy === 'Orphan') {
    for (const { rt: drt, object } of dependents) {
      registry.update(drt, object.metadata.namespace, object.metadata.name as string, {
        ...object,
        metadata: {
          ...object.metadata,
          ownerReferences: (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid),
        },
      });
    }
    return;
  }
  if (dependents.length === 0 || (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) return;
  registry.update(rt, namespace, name, {
    ...owner,
    metadata: { ...owner.metadata, finalizers: [...(owner.metadata.finalizers ?? []), FOREGROUND_FINALIZER] },
  });
}
