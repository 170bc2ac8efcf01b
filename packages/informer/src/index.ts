// Public surface of @nodeagent/informer.
export { Backoff, type BackoffOptions } from './backoff';
export { type Delta, DeltaTracker } from './delta-tracker';
export {
  ApiStatusError,
  InformerStoppedError,
  InvalidOptionError,
  WatchDroppedError,
  WatchInactivityError,
} from './errors';
export { IndexedStore, type IndexFunc, namespaceIndex, type StoreChange } from './indexed-store';
export { Informer, type InformerOptions } from './informer';
export { collectionPath, KubeListerWatcher, type ResourceRef } from './kube-lister-watcher';
export type {
  ListerWatcher,
  ListOptions,
  ListPage,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './lister-watcher';
export { objectKey } from './object-key';
export { rateLimitedKubeConfig, type TokenBucketOptions, TokenBucketRateLimiter } from './rate-limiter';
export { Reflector, type ReflectorOptions, type ReflectorStats } from './reflector';
export {
  LAST_APPLIED_CONFIGURATION,
  stripLastAppliedConfiguration,
  stripManagedFields,
} from './strip-fields';
