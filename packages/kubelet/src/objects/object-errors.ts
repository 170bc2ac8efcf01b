import { KubeletError } from '../errors';

/**
 * A ConfigMap or Secret read for a pod the manager was not told about, in upstream's words
 * (`object "<ns>"/"<name>" not registered`): the pod sync registers a pod before reading its objects.
 */
export class ObjectNotRegisteredError extends KubeletError {
  constructor(namespace: string, name: string) {
    super(
      'OBJECT_NOT_REGISTERED',
      'name',
      `${namespace}/${name}`,
      'no registered pod references it',
      `object ${JSON.stringify(namespace)}/${JSON.stringify(name)} not registered`,
    );
  }
}

/**
 * A watched object's first list did not arrive in time, in upstream's words ("failed to sync
 * configmap cache: timed out waiting for the condition"); the pod sync fails and is retried.
 */
export class ObjectCacheSyncError extends KubeletError {
  constructor(resource: string, namespace: string, name: string) {
    super(
      'OBJECT_CACHE_SYNC',
      'name',
      `${namespace}/${name}`,
      'first list not received in time',
      `failed to sync ${resource} cache: timed out waiting for the condition`,
    );
  }
}
