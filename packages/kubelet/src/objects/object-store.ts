/**
 * Where a manager keeps the ConfigMaps or Secrets its registered pods reference (upstream
 * pkg/kubelet/util/manager Store): each strategy (Watch, Cache, Get) is one implementation.
 */
export interface ObjectStore<T> {
  /** One more registered pod references `namespace/name` (cheap: never waits on the network). */
  addReference(namespace: string, name: string): void;
  /** One registered pod fewer references `namespace/name`; the last one lets it go. */
  deleteReference(namespace: string, name: string): void;
  /**
   * The object as this strategy knows it, undefined when the API server has none; rejects with
   * an ObjectNotRegisteredError when no registered pod references it (Watch and Cache).
   */
  get(namespace: string, name: string): Promise<T | undefined>;
  /** Ends every watch and timer. */
  stop(): Promise<void>;
}

/** The two kinds the kubelet's managers serve, with their API resource names. */
export const objectKinds = {
  configMap: { plural: 'configmaps', resource: 'configmap' },
  secret: { plural: 'secrets', resource: 'secret' },
} as const;

export type ObjectKind = keyof typeof objectKinds;

/** `namespace/name`, the key of the objects' stores (client-go's MetaNamespaceKeyFunc). */
export function objectStoreKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
