import type { InformerObject } from './informer-object';
import type { HeldObjects } from './protobuf/held-objects';

/** A list request's query: selectors, paging and the resourceVersion to read at. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /**
   * Objects the caller holds: an item found here at its resourceVersion may be handed over as
   * the held object itself, its decode and the `each` given to `list` skipped (the protobuf
   * list decoder does; JSON items are parsed whole). The reflector gives its store to a relist.
   */
  held?: HeldObjects;
}

/** One page of a list: its items, the collection's resourceVersion and the next page's token. */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
  /** The items already went through the `each` given to `list` (else the caller applies it). */
  transformed?: boolean;
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
  /**
   * A watch-list stream (KEP-3157): `sendInitialEvents=true` with
   * `resourceVersionMatch=NotOlderThan`. The server first sends the collection's state as ADDED
   * events, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"`, then the changes.
   */
  sendInitialEvents?: boolean;
  /**
   * Objects the caller holds: an ADDED event's object found here at its resourceVersion may be
   * handed over as the held object itself, its decode skipped (the protobuf decoders do; JSON
   * lines are parsed whole). The reflector gives its store during a stream's initial events.
   */
  held?: HeldObjects;
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
  /**
   * One page of the collection. `each`, when given, may be applied to every item as it is
   * decoded (so a large page is never held untransformed); a page that did so says
   * `transformed: true`, and one that did not gets `each` applied by the caller.
   */
  list(options: ListOptions, signal: AbortSignal, each?: (item: T) => T): Promise<ListPage<T>>;
  /** Streams events to `onEvent` until the server ends the watch or it fails. */
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
  /**
   * Whether `watch` honours `sendInitialEvents` (passes it to a server that streams the initial
   * state). Only then does the reflector read the initial state through a watch-list stream; a
   * ListerWatcher that leaves this unset is listed, so one written before watch-list (a test
   * double that ignores the option) is not left waiting for a bookmark that never comes.
   */
  readonly supportsWatchList?: boolean;
}
