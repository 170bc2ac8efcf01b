import type { InformerObject } from './informer-object';

// Fields are dropped by rebuilding the object that held them (object rest), never with
// `delete`: deleting a property other than the last one added switches a V8 object to
// dictionary mode, which costs several hundred bytes more per object than the field saved.

/**
 * Drops `metadata.managedFields`, the server-side-apply bookkeeping every object carries (often
 * larger than the rest of the object) and that no node agent reads. The default transform of
 * every Informer, as upstream's informers strip it before caching (cache.TransformStripManagedFields).
 * Returns the same object with a new `metadata`: it is freshly decoded and not yet shared.
 */
export function stripManagedFields<T extends InformerObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) {
    const { managedFields: _dropped, ...metadata } = obj.metadata;
    obj.metadata = metadata;
  }
  return obj;
}

/** `kubectl apply`'s client-side record: a full copy of the object as last applied, in an annotation. */
export const LAST_APPLIED_CONFIGURATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops the last-applied-configuration annotation (a second, serialized copy of the object on
 * everything created with client-side `kubectl apply`), which controllers never read.
 */
export function stripLastAppliedConfiguration<T extends InformerObject>(obj: T): T {
  const annotations = obj.metadata?.annotations;
  if (annotations && LAST_APPLIED_CONFIGURATION in annotations)
    delete annotations[LAST_APPLIED_CONFIGURATION];
  return obj;
}
