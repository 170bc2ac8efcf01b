import type { InformerObject } from './informer-object';

/** A list request's query: selectors, paging and the resourceVersion to read at. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** One page of a list: its items, the collection's resourceVersion and the next page's token. */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

/** A watch request's query and how long the reflector tolerates silence. */
export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number;
  /** Abort the stream when nothing (not even a bookmark) arrives for this long. */
  inactivityTimeoutMs: number;
}

/** The event types of the Kubernetes watch protocol. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One watch event: its type and the object (a Status for ERROR). */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/**
 * The two calls a reflector needs. `watch` resolves when the server ends the stream cleanly
 * (its timeoutSeconds rotation) and rejects on HTTP errors, dropped connections and inactivity.
 */
export interface ListerWatcher<T extends InformerObject> {
  /** One page of the collection. */
  list(options: ListOptions, signal: AbortSignal): Promise<ListPage<T>>;
  /** Streams events to `onEvent` until the server ends the watch or it fails. */
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}
