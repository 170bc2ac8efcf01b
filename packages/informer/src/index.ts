// Public surface of @nodeagent/informer.
// Thrown for options that cannot work; the class lives in primitives.
export { InvalidOptionError, type Wire } from '@nodeagent/primitives';
export { type ApiRequest, ApiRequestError, apiRequest } from './api-request';
export { type Delta, DeltaTracker } from './delta-tracker';
export {
  ApiStatusError,
  InformerStoppedError,
  WatchDroppedError,
  WatchInactivityError,
} from './errors';
export { IndexedStore, type IndexFunc, namespaceIndex, type StoreChange } from './indexed-store';
export { Informer, type InformerOptions, type Unsubscribe } from './informer';
export type { InformerObject } from './informer-object';
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
  type AuthenticationV1WireRequests,
  type AuthorizationV1Requests,
  type AuthorizationV1WireRequests,
  authenticationV1Requests,
  authorizationV1Requests,
  type CertificatesV1Method,
  type CertificatesV1Requests,
  type CertificatesV1WireRequests,
  type CoordinationV1Method,
  type CoordinationV1Requests,
  type CoordinationV1WireRequests,
  type CoreV1Method,
  type CoreV1Requests,
  type CoreV1WireRequests,
  certificatesV1Requests,
  coordinationV1Requests,
  coreV1Requests,
  type EitherCall,
  type EitherRequests,
  type WireCall,
  type WireRequests,
} from './typed-requests';
