import type { KubeObject, WatchEventType } from './kube-object';

/** One committed change, as kept in the watch history. */
export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  /** `group/plural` of the resource type. */
  resource: string;
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED), for selector transitions. */
  oldObject?: KubeObject;
}

/** Called synchronously, in commit order, with each change the store commits (see ObjectStore.subscribe). */
export type StoreListener = (event: StoredEvent) => void;

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * Raw storage: objects per resource, one global monotonically increasing resourceVersion
 * (like etcd's revision), a bounded history of changes for watches, and synchronous
 * listeners. Stored objects are never mutated in place; every write stores a new object.
 */
export class ObjectStore {
  private revision = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /**
   * Each resource's keys in list order, kept until a key is added or removed: sorting on every
   * list made a create that lists (or a list per create) cost O(N log N).
   */
  private readonly sortedKeys = new Map<string, string[]>();
  /** The watch history is `history[historyStart..]`; dropped events are cut off in batches. */
  private readonly history: StoredEvent[] = [];
  private historyStart = 0;
  /** All events with rv > compactedRevision are still in `history`. */
  private compactedRevision = 0;
  private readonly listeners = new Set<StoreListener>();

  constructor(private historyWindow: number) {}

  get resourceVersion(): number {
    return this.revision;
  }

  /** Oldest resourceVersion a watch can still start from. */
  get oldestWatchableRevision(): number {
    return this.compactedRevision;
  }

  /** How many events watches can resume from. */
  setHistoryWindow(n: number): void {
    this.historyWindow = n;
    this.trimHistory();
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) {
      b = new Map();
      this.objects.set(resource, b);
    }
    return b;
  }

  /** The stored object, if any. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects sorted by namespace/name, which is the order the real server lists in. */
  list(resource: string, namespace?: string): KubeObject[] {
    const b = this.objects.get(resource);
    if (!b) return [];
    let keys = this.sortedKeys.get(resource);
    if (!keys) {
      keys = [...b.keys()].sort();
      this.sortedKeys.set(resource, keys);
    }
    const out: KubeObject[] = [];
    for (const k of keys) {
      const o = b.get(k) as KubeObject;
      if (namespace === undefined || o.metadata.namespace === namespace) out.push(o);
    }
    return out;
  }

  /** How many objects of a resource are stored. */
  count(resource: string): number {
    return this.objects.get(resource)?.size ?? 0;
  }

  /** Commit a new object or a new version of one; stamps metadata.resourceVersion. */
  put(resource: string, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    const rv = ++this.revision;
    const stored: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    const key = objectKey(stored.metadata.namespace, stored.metadata.name as string);
    const b = this.bucket(resource);
    const old = b.get(key);
    b.set(key, stored);
    if (!old) this.sortedKeys.delete(resource);
    this.record(
      old ? { rv, type, resource, object: stored, oldObject: old } : { rv, type, resource, object: stored },
    );
    return stored;
  }

  /** Removes an object; the removed one, if it was stored. */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const b = this.objects.get(resource);
    const key = objectKey(namespace, name);
    const old = b?.get(key);
    if (!b || !old) return undefined;
    b.delete(key);
    this.sortedKeys.delete(resource);
    const rv = ++this.revision;
    // The real server reports the deleted object at the deletion's revision.
    const object = { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } };
    this.record({ rv, type: 'DELETED', resource, object, oldObject: old });
    return object;
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    this.trimHistory();
    for (const l of this.listeners) l(event);
  }

  private trimHistory(): void {
    const excess = this.history.length - this.historyStart - this.historyWindow;
    if (excess <= 0) return;
    this.historyStart += excess;
    this.compactedRevision = (this.history[this.historyStart - 1] as StoredEvent).rv;
    // Cutting the array at every write would move the whole window each time; once the dropped
    // part is as long as the kept one, one cut costs no more than the writes that led to it.
    if (this.historyStart >= this.history.length - this.historyStart) {
      this.history.splice(0, this.historyStart);
      this.historyStart = 0;
    }
  }

  /** Events after `rv`, or undefined when some of them were compacted away (→ 410 Gone). */
  eventsSince(rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedRevision) return undefined;
    // History is sorted by rv; binary search the first event after rv.
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.history[mid] as StoredEvent).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Forget all history, so every watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.historyStart = 0;
    this.compactedRevision = this.revision;
  }

  /** Calls `listener` synchronously with every committed change; returns an unsubscribe. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
