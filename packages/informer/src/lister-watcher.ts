import type { KubeObject } from './kube-object';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number;
  /** Abort the stream when nothing (not even a bookmark) arrives for this long. */
  inactivityTimeoutMs: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/**
 * The two calls a reflector needs. `watch` resolves when the server ends the stream cleanly
 * (its timeoutSeconds rotation) and rejects on HTTP errors, dropped connections and inactivity.
 */
export interface ListerWatcher<T extends KubeObject> {
  list(options: ListOptions, signal: AbortSignal): Promise<ListPage<T>>;
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}
