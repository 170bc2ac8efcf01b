import type { Clock } from '@nodeagent/primitives';
import { httpStatusCode } from '../api/http-status-code';
import { ObjectNotRegisteredError } from './object-errors';
import { type ObjectStore, objectStoreKey } from './object-store';

/** The kubelet's TTL of a cached ConfigMap or Secret when the Node sets none (upstream defaultTTL). */
export const defaultObjectTtlMs = 60_000;

/** Reads one object from the API server; rejects with the API error (404 included). */
export type ObjectGetter<T> = (namespace: string, name: string) => Promise<T>;

/** What a {@link TtlObjectStore} fetches with and how long a fetched object is fresh. */
export interface TtlObjectStoreOptions<T> {
  get: ObjectGetter<T>;
  clock: Clock;
  /**
   * The TTL the Node's `node.alpha.kubernetes.io/ttl` annotation sets now (objectTtlFromNode),
   * undefined when it sets none; read at each freshness check, as upstream's getTTL.
   */
  nodeTtlMs?: () => number | undefined;
  /** The TTL without the annotation (default {@link defaultObjectTtlMs}). */
  defaultTtlMs?: number;
}

/** The last answer for one object: the object, or that it does not exist, and when it came. */
interface Fetched<T> {
  object: T | undefined;
  notFound: boolean;
  at: number;
}

interface CachedObject<T> {
  refCount: number;
  /** Undefined until fetched, and again after each new reference (the next read fetches). */
  data: Fetched<T> | undefined;
  /** The fetch in flight: concurrent reads share it (upstream locks the item around its fetch). */
  fetching: Promise<T | undefined> | undefined;
}

function resourceVersion(object: unknown): number {
  const value = Number((object as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Upstream's TTL-based object store (pkg/kubelet/util/manager/cache_based_manager.go): a read
 * fetches the object (GET) when it was never fetched, a pod registered it anew, it was missing
 * at the last fetch, or the TTL has passed; otherwise the last answer is served. A fetch that
 * fails for another reason than 404 serves the last answer when there is one.
 */
export class TtlObjectStore<T> implements ObjectStore<T> {
  private readonly items = new Map<string, CachedObject<T>>();

  constructor(private readonly options: TtlObjectStoreOptions<T>) {}

  addReference(namespace: string, name: string): void {
    const key = objectStoreKey(namespace, name);
    let item = this.items.get(key);
    if (!item) {
      item = { refCount: 0, data: undefined, fetching: undefined };
      this.items.set(key, item);
    }
    item.refCount++;
    // Upstream: a pod (re)registered makes the next read fetch.
    item.data = undefined;
  }

  deleteReference(namespace: string, name: string): void {
    const key = objectStoreKey(namespace, name);
    const item = this.items.get(key);
    if (!item) return;
    item.refCount--;
    if (item.refCount === 0) this.items.delete(key);
  }

  private isFresh(data: Fetched<T>): boolean {
    const ttl = this.options.nodeTtlMs?.() ?? this.options.defaultTtlMs ?? defaultObjectTtlMs;
    return this.options.clock.now() < data.at + ttl;
  }

  get(namespace: string, name: string): Promise<T | undefined> {
    const item = this.items.get(objectStoreKey(namespace, name));
    if (!item) return Promise.reject(new ObjectNotRegisteredError(namespace, name));
    if (item.fetching) return item.fetching;
    if (item.data && !item.data.notFound && this.isFresh(item.data)) return Promise.resolve(item.data.object);
    item.fetching = this.fetch(item, namespace, name).finally(() => {
      item.fetching = undefined;
    });
    return item.fetching;
  }

  private async fetch(item: CachedObject<T>, namespace: string, name: string): Promise<T | undefined> {
    const previous = item.data;
    try {
      const object = await this.options.get(namespace, name);
      // An answer older than the one held (an eventually consistent read) is not kept.
      if (!previous?.object || resourceVersion(object) >= resourceVersion(previous.object))
        item.data = { object, notFound: false, at: this.options.clock.now() };
    } catch (error) {
      if (httpStatusCode(error) === 404) {
        item.data = { object: undefined, notFound: true, at: this.options.clock.now() };
      } else if (!previous || previous.notFound) {
        // Nothing held to fall back on: the failure is the answer.
        throw error;
      }
    }
    return item.data?.object;
  }

  async stop(): Promise<void> {
    this.items.clear();
  }
}
