import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Drops `metadata.managedFields`, the server-side-apply bookkeeping every object carries (often
 * larger than the rest of the object) and that no node agent reads. The default transform of
 * every Informer, as upstream's informers strip it before caching (cache.TransformStripManagedFields).
 * Returns the same object, changed in place: it is freshly decoded and not yet shared.
 */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete obj.metadata.managedFields;
  return obj;
}
