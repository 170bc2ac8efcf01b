// Public surface of @nodeagent/informer.
// Thrown for options that cannot work; the class lives in primitives.
export { InvalidOptionError } from '@nodeagent/primitives';
export { type ApiRequest, ApiRequestError, apiRequest } from './api-request';
export { type Delta, DeltaTracker } from './delta-tracker';
export {
  ApiStatusError,
  InformerStoppedError,
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
export {
  type AuthenticationV1Requests,
  type AuthorizationV1Requests,
  authenticationV1Requests,
  authorizationV1Requests,
  type CertificatesV1Requests,
  type CoordinationV1Requests,
  type CoreV1Requests,
  certificatesV1Requests,
  coordinationV1Requests,
  coreV1Requests,
} from './typed-requests';
