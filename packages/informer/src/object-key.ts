import type { InformerObject } from './informer-object';

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: InformerObject): string {
  const m = obj.metadata ?? {};
  return namespacedKey(m.namespace, m.name ?? '');
}

/** The store key of `name` in `namespace` ("" or none: cluster-scoped). */
export function namespacedKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
