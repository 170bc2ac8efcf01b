import { Backoff, type BackoffOptions, InvalidOptionError } from '@nodeagent/primitives';
import { EventLoopSlices } from '@nodeagent/primitives/event-loop-slices';
import { ApiStatusError, InformerStoppedError, WatchDroppedError } from './errors';
import type { IndexedStore, StoreChange } from './indexed-store';
import type { InformerObject } from './informer-object';
import { InitialEvents, isInitialEventsEnd } from './initial-events';
import type { ListerWatcher, WatchEvent } from './lister-watcher';
import type { HeldObjects } from './protobuf/held-objects';
import { stripManagedFields } from './strip-fields';

/** Where a reflector lists and watches from, and how it retries, transforms and reports. */
export interface ReflectorOptions<T extends InformerObject = InformerObject> {
  labelSelector?: string;
  /** E.g. `spec.nodeName=node-1` for the kubelet's pod watch. */
  fieldSelector?: string;
  /**
   * Read the initial state (and every relist) through a watch-list stream, KEP-3157, when the
   * ListerWatcher supports it (`supportsWatchList`, as KubeListerWatcher does): one watch with
   * `sendInitialEvents=true`, whose objects are decoded one by one, instead of a LIST whose
   * whole response is held at once. client-go's WatchListClient, on by default since v1.35.
   * Default true; a server that refuses the stream is listed instead, as client-go falls back.
   */
  watchList?: boolean;
  /**
   * Items per LIST page (`limit`). Default 500, like client-go; 0 lists in one request with no
   * limit (client-go's pager with PageSize 0).
   */
  pageSize?: number;
  /**
   * `timeoutSeconds` sent on each watch so the server ends and the reflector renews it.
   * Default: random in [300, 600) per watch, like client-go's minWatchTimeout spread.
   */
  watchTimeoutSeconds?: number;
  /**
   * Abort a watch when nothing arrives for this long (half-open connections never close on
   * their own). Default: the watch's timeoutSeconds plus 30 s.
   */
  inactivityTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Injected clock and randomness (tests). */
  now?: () => number;
  /** A number in [0, 1) for backoff jitter (default Math.random). */
  random?: () => number;
  /** Called with every list/watch failure the reflector recovers from. */
  onError?: (err: unknown) => void;
  /**
   * Applied to every object from a LIST or a watch event before it is stored or handed to
   * handlers, to keep only what the consumer reads (client-go's SetTransform). It receives a
   * freshly decoded object it may change in place. Default: stripManagedFields; pass
   * `(o) => o` to keep objects whole.
   */
  transform?: (obj: T) => T;
  /**
   * A watch-list stream into an empty store (the first one) applies each object to the store
   * and hands it to `onChanges` (one change each) as it arrives, instead of holding them all
   * apart until the end bookmark and replacing the store with them in one batch. `hasSynced()`
   * still turns true only at the bookmark. A stream that breaks halfway then leaves what it
   * sent stored, and the next stream or LIST reconciles it as a relist would (deletions for
   * what is gone). For consumers that fold each object into their own form at its event
   * (kube-proxy): the decoded objects then die young instead of all living until the stream's
   * end. A first LIST into an empty store is applied the same way, item by item, handing the
   * event loop back every few ms. Default false.
   */
  applyInitialEventsAsTheyArrive?: boolean;
}

/** Counters of what a reflector has done, for tests and metrics. */
export interface ReflectorStats {
  /** Completed full reads of the collection, LIST or watch-list stream (the initial one plus relists). */
  lists: number;
  /** Of those, the ones read through a watch-list stream. */
  streamedLists: number;
  /** Watch requests started. */
  watches: number;
  /** 410 Gone / expired answers (each leads to a relist). */
  expired: number;
  /** Other failures, each followed by a backoff. */
  errors: number;
  /** ADDED/MODIFIED/DELETED events received. */
  events: number;
  bookmarks: number;
}

/** How long a first list's items are applied before the event loop gets a turn (ms). */
const LIST_APPLY_SLICE_MS = 8;

/** What streamInitialState asks of the loop: a LIST instead, or nothing more (the stream's watch has ended). */
const FALL_BACK_TO_LIST = 'list';

/**
 * Keeps a store in sync with the server: the initial state from a watch-list stream (or a
 * paginated LIST), then WATCH from its resourceVersion with bookmarks; relist on 410; jittered
 * exponential backoff on other errors, forever, until stopped.
 */
export class Reflector<T extends InformerObject> {
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private synced = false;
  private syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private resourceVersion = '';
  private readonly transform: (obj: T) => T;
  readonly stats: ReflectorStats = {
    lists: 0,
    streamedLists: 0,
    watches: 0,
    expired: 0,
    errors: 0,
    events: 0,
    bookmarks: 0,
  };
  private readonly useWatchList: boolean;
  /** A watch-list stream's state until its end bookmark; undefined outside one. */
  private initial: InitialEvents<T> | undefined;
  /**
   * The store, to a stream's decoder, while its initial events are collected apart: an object
   * they bring back at the stored version would be dropped for the stored copy (heldForReplace),
   * so it is not decoded at all. Nothing outside that phase, when every event is applied as decoded.
   */
  private readonly heldDuringInitialEvents: HeldObjects = {
    at: (namespace, name, resourceVersion) =>
      this.initial && !this.initial.direct
        ? this.store.storedAt(namespace, name, resourceVersion)
        : undefined,
  };
  /** The store, to a relist's LIST decoder: an item at the stored version is the stored copy, undecoded. */
  private readonly heldByStore: HeldObjects = {
    at: (namespace, name, resourceVersion) => this.store.storedAt(namespace, name, resourceVersion),
  };
  /** A stream from the last resourceVersion was refused (410, too large): the next starts from "". */
  private resourceVersionUnavailable = false;

  constructor(
    private readonly listerWatcher: ListerWatcher<T>,
    private readonly store: IndexedStore<T>,
    private readonly onChanges: (changes: StoreChange<T>[]) => void,
    private readonly options: ReflectorOptions<T> = {},
  ) {
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 0)
      throw new InvalidOptionError('pageSize', pageSize, 'must be a whole number (0: no paging)');
    this.transform = options.transform ?? stripManagedFields;
    this.useWatchList = options.watchList !== false && listerWatcher.supportsWatchList === true;
    this.backoff = new Backoff({ now: options.now, random: options.random, ...options.backoff });
  }

  /** resourceVersion of the last list, event or bookmark applied. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Whether the first full list has been applied. */
  hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Resolves once the first full list has been applied; rejects if stopped before that, or with
   * `signal`'s reason once it aborts: a caller that gives up (a timeout) leaves no waiter behind,
   * however many times it asks while the list keeps failing.
   */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new InformerStoppedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        const index = this.syncWaiters.indexOf(waiter);
        if (index >= 0) this.syncWaiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(waiter);
    });
  }

  /** Callers waiting for the first list (for tests and diagnostics). */
  get syncWaiterCount(): number {
    return this.syncWaiters.length;
  }

  /** Starts the list/watch loop (once). */
  start(): void {
    if (!this.running) this.running = this.loop();
  }

  /** Aborts the running request and ends the loop; resolves when it has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeSleep?.();
    await this.running;
    for (const w of this.syncWaiters.splice(0)) w.reject(new InformerStoppedError());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) {
        resolve();
        return;
      }
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }

  private async loop(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          const streamed = this.useWatchList ? await this.streamInitialState() : FALL_BACK_TO_LIST;
          if (this.stopped) break;
          if (streamed === FALL_BACK_TO_LIST) await this.listAll();
          needList = false;
          if (streamed !== FALL_BACK_TO_LIST) {
            // The stream went on as the watch; a failure after its end bookmark is the watch's.
            if (streamed.error !== undefined) throw streamed.error;
            this.backoff.reset();
            continue;
          }
        }
        // stop() may have run while handlers of the list were executing.
        if (this.stopped) break;
        const started = (this.options.now ?? Date.now)();
        const before = this.stats.events + this.stats.bookmarks;
        await this.watchOnce();
        // A watch that ends at once without delivering anything must not spin.
        const quiet = this.stats.events + this.stats.bookmarks === before;
        if (quiet && (this.options.now ?? Date.now)() - started < 1000) await this.sleep(this.backoff.next());
        else this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof ApiStatusError && err.expired) {
          this.stats.expired++;
          needList = true;
          continue;
        }
        this.stats.errors++;
        this.options.onError?.(err);
        let delay = this.backoff.next();
        if (err instanceof ApiStatusError && err.retryAfterSeconds !== undefined) {
          delay = Math.max(delay, err.retryAfterSeconds * 1000);
        }
        await this.sleep(delay);
      }
    }
  }

  private async listAll(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    const limit = this.options.pageSize ?? 500;
    // A first LIST into an empty store, for a consumer that takes objects as they arrive
    // (applyInitialEventsAsTheyArrive), is applied item by item, handing the event loop back
    // every few ms: its handlers then never run over the whole collection in one task (250k
    // endpoints: ~0.1 s of kube-proxy's main thread). A list started over holds its items apart
    // and replaces the store at its end, which reconciles what was applied before.
    let direct = this.options.applyInitialEventsAsTheyArrive === true && this.store.size === 0;
    for (;;) {
      const opts = {
        ...(limit > 0 ? { limit } : {}),
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
        ...(cont ? { continue: cont } : {}),
        // A list held apart until it replaces the store brings back its stored copies (heldForReplace).
        ...(direct ? {} : { held: this.heldByStore }),
      };
      let page: Awaited<ReturnType<ListerWatcher<T>['list']>>;
      try {
        // The transform runs on each item as it is decoded: a one-request list of 1M endpoints
        // is never held whole in its decoded, untransformed form.
        page = await this.listerWatcher.list(opts, this.abort.signal, this.transform);
      } catch (err) {
        if (cont && err instanceof ApiStatusError && err.expired) {
          // The continue token outlived the server's history: start the list over.
          this.stats.expired++;
          items.length = 0;
          cont = undefined;
          direct = false;
          continue;
        }
        throw err;
      }
      if (this.stopped) return;
      if (direct) {
        if (!(await this.applyInSlices(page.items, page.transformed === true))) return;
      } else for (const item of page.items) items.push(this.heldForReplace(item, page.transformed === true));
      if (!cont) rv = page.resourceVersion;
      cont = page.continue;
      if (!cont) break;
    }
    if (direct) this.listed(rv);
    else this.replaceAll(items, rv);
  }

  /**
   * Stores and hands out each of a first list's `items` (as a watch-list stream's initial events
   * are, applyInitialEventsAsTheyArrive), with a turn of the event loop whenever a slice of
   * LIST_APPLY_SLICE_MS is spent. False when the reflector was stopped meanwhile.
   */
  private async applyInSlices(items: T[], transformed: boolean): Promise<boolean> {
    const slices = new EventLoopSlices({ sliceMs: LIST_APPLY_SLICE_MS });
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as T;
      // Dropped from the page as it goes: the consumer's retained form is all that stays.
      items[i] = undefined as unknown as T;
      const change = this.store.upsert(transformed ? item : this.transform(item));
      if (change) this.onChanges([change]);
      if (!slices.spent()) continue;
      await slices.turn();
      if (this.stopped) return false;
    }
    return true;
  }

  /**
   * What a relist holds of `item` until it replaces the store: the store's own copy when that is
   * the same version (most of a relist after an API server restart), else `item` transformed.
   * The decoded object then dies young instead of living, with its whole collection, until the
   * list ends: at 5,000 EndpointSlices of 50 endpoints that peak was ~60 MB of old space, kept
   * afterwards by V8's page pool (npm run bench -- soak).
   */
  private heldForReplace(item: T, transformed: boolean): T {
    return this.store.storedAtVersion(item) ?? (transformed ? item : this.transform(item));
  }

  /** Makes `items` the store's content as of `rv` (a completed LIST or stream); the first one syncs. */
  private replaceAll(items: T[], rv: string): void {
    const changes = this.store.replace(items);
    this.onChanges(changes);
    this.listed(rv);
  }

  /** The store holds the collection as of `rv` (a completed LIST or stream); the first one syncs. */
  private listed(rv: string): void {
    this.resourceVersion = rv;
    this.resourceVersionUnavailable = false;
    this.stats.lists++;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
  }

  /**
   * client-go's watchList: a watch with `sendInitialEvents=true` from the last resourceVersion
   * ("" at first: the current state). Its objects are collected apart until the bookmark
   * annotated `k8s.io/initial-events-end`, which replaces the store and syncs; the same watch
   * then goes on delivering changes, and this resolves when it ends (with its error, if any).
   * Before that bookmark, as client-go: 429 and refused connections are thrown to the loop's
   * backoff and the stream is tried again; 410 or a too-large resourceVersion restarts it from
   * ""; any other failure, or a watch closed at once with nothing sent, falls back to a LIST.
   */
  private async streamInitialState(): Promise<typeof FALL_BACK_TO_LIST | { error?: unknown }> {
    for (;;) {
      const direct = this.options.applyInitialEventsAsTheyArrive === true && this.store.size === 0;
      const initial = new InitialEvents<T>(direct);
      this.initial = initial;
      const started = (this.options.now ?? Date.now)();
      let error: unknown;
      try {
        await this.watchOnce(this.resourceVersionUnavailable ? '' : this.resourceVersion, true);
      } catch (err) {
        error = err;
      }
      const completed = this.initial !== initial;
      this.initial = undefined;
      if (completed) return error === undefined ? {} : { error };
      if (this.stopped) return {};
      if (error === undefined) {
        const quick = (this.options.now ?? Date.now)() - started < 1000;
        if (!quick || initial.size > 0) continue;
        error = new WatchDroppedError(
          'the watch-list stream closed at once, before its initial-events-end bookmark',
        );
      }
      if (retriableStreamError(error)) throw error;
      if (unavailableResourceVersion(error)) {
        this.resourceVersionUnavailable = true;
        throw error;
      }
      this.stats.errors++;
      this.options.onError?.(error);
      return FALL_BACK_TO_LIST;
    }
  }

  private async watchOnce(resourceVersion = this.resourceVersion, sendInitialEvents = false): Promise<void> {
    const random = this.options.random ?? Math.random;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? Math.floor(300 * (1 + random()));
    this.stats.watches++;
    await this.listerWatcher.watch(
      {
        resourceVersion,
        allowWatchBookmarks: true,
        ...(sendInitialEvents ? { sendInitialEvents, held: this.heldDuringInitialEvents } : {}),
        timeoutSeconds,
        inactivityTimeoutMs: this.options.inactivityTimeoutMs ?? (timeoutSeconds + 30) * 1000,
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
      },
      (event) => this.apply(event),
      this.abort.signal,
    );
  }

  private apply(event: WatchEvent<T>): void {
    if (this.stopped) return;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        this.stats.events++;
        if (this.initial && !this.initial.direct) {
          this.initial.put(this.heldForReplace(event.object, false));
          return;
        }
        const obj = this.transform(event.object);
        this.initial?.countApplied();
        const change = this.store.upsert(obj);
        // An initial event's resourceVersion is its object's, not the stream's position.
        if (!this.initial) this.bump(obj);
        if (change) this.onChanges([change]);
        return;
      }
      case 'DELETED': {
        this.stats.events++;
        const obj = this.transform(event.object);
        if (this.initial && !this.initial.direct) {
          this.initial.remove(obj);
          return;
        }
        this.initial?.countApplied();
        const change = this.store.remove(obj);
        if (!this.initial) this.bump(obj);
        if (change) this.onChanges([change]);
        return;
      }
      case 'BOOKMARK':
        this.stats.bookmarks++;
        if (this.initial) {
          if (isInitialEventsEnd(event.object)) this.completeStream(this.initial, event.object);
          return;
        }
        this.bump(event.object);
        return;
      case 'ERROR': {
        const s = event.object as unknown as { code?: number; reason?: string; message?: string };
        throw new ApiStatusError(s.code ?? 500, s.reason ?? 'Unknown', s.message ?? 'watch ERROR event');
      }
      default:
        throw new ApiStatusError(500, 'BadEvent', `unknown watch event type ${String(event.type)}`);
    }
  }

  /** The end bookmark of a watch-list stream: its objects become the store's content. */
  private completeStream(initial: InitialEvents<T>, bookmark: T): void {
    this.initial = undefined;
    this.stats.streamedLists++;
    const rv = bookmark.metadata?.resourceVersion ?? '';
    if (initial.direct) this.listed(rv);
    else this.replaceAll(initial.take(), rv);
  }

  private bump(obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }
}

/** client-go's isWatchErrorRetriable: a refused connection or 429, worth the same request after a backoff. */
function retriableStreamError(err: unknown): boolean {
  if (err instanceof ApiStatusError) return err.code === 429;
  return (err as { code?: unknown } | undefined)?.code === 'ECONNREFUSED';
}

/** 410 Gone/Expired, or the 504 a server gives a resourceVersion it has not reached: start over from "". */
function unavailableResourceVersion(err: unknown): boolean {
  if (!(err instanceof ApiStatusError)) return false;
  return err.expired || (err.code === 504 && err.message.includes('Too large resource version'));
}
