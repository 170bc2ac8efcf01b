import type { ObjectStore } from './object-store';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import { ROOT_CA_CONFIGMAP, ROOT_CA_KEY } from './service-account-token-volume';

const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/**
 * kube-controller-manager's root-ca-cert-publisher: a ConfigMap kube-root-ca.crt holding the
 * cluster CA as `ca.crt` in every namespace, now and as namespaces appear (what the projected
 * token volumes read). Returns a function that stops it.
 */
export function startRootCAPublisher(
  registry: ResourceRegistry,
  store: ObjectStore,
  caPem: string,
): () => void {
  const configMaps = findResourceType('', 'v1', 'configmaps') as ResourceType;
  const publish = (namespace: string): void => {
    if (!store.get('/namespaces', undefined, namespace)) return;
    if (registry.find(configMaps, namespace, ROOT_CA_CONFIGMAP)) return;
    registry.create(configMaps, namespace, {
      metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': DESCRIPTION } },
      data: { [ROOT_CA_KEY]: caPem },
    });
  };
  for (const ns of store.list('/namespaces')) publish(ns.metadata.name as string);
  return store.subscribe((e) => {
    if (e.resource === '/namespaces' && e.type === 'ADDED') {
      const ns = e.object.metadata.name as string;
      queueMicrotask(() => publish(ns));
    }
  });
}
