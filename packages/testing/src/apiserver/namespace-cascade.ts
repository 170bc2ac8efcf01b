import type { ObjectStore } from './object-store';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

/** The namespaced resources a namespace's deletion takes with it, as [group, plural]. */
const NAMESPACED_CONTENTS = [
  ['', 'pods'],
  ['', 'services'],
  ['', 'endpoints'],
  ['', 'configmaps'],
  ['', 'secrets'],
  ['', 'serviceaccounts'],
  ['', 'events'],
  ['discovery.k8s.io', 'endpointslices'],
  ['coordination.k8s.io', 'leases'],
  ['apps', 'replicasets'],
  ['apps', 'deployments'],
] as const;

/**
 * Deleting a namespace deletes what it holds (the namespace controller's job): straight from the
 * store, without graceful deletion, as the namespace is already gone.
 */
export function cascadeNamespace(registry: ResourceRegistry, store: ObjectStore, ns: string): void {
  for (const [group, plural] of NAMESPACED_CONTENTS) {
    const rt = findResourceType(group, 'v1', plural) as ResourceType;
    const key = group === '' ? `/${plural}` : `${group}/${plural}`;
    for (const o of registry.list(rt, ns)) store.remove(key, ns, o.metadata.name as string);
  }
}
