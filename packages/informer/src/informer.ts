import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError } from '@nodeagent/primitives';
import { type Delta, DeltaTracker } from './delta-tracker';
import { IndexedStore, type IndexFunc, namespaceIndex, type StoreChange } from './indexed-store';
import type { InformerObject } from './informer-object';
import { KubeListerWatcher, type ResourceRef } from './kube-lister-watcher';
import type { ListerWatcher } from './lister-watcher';
import type { ProtobufWireOptions } from './protobuf/wire-format';
import { Reflector, type ReflectorOptions, type ReflectorStats } from './reflector';

/** What to watch and how: the reflector's options plus the store's indexers and delta tracking. */
export interface InformerOptions<T extends InformerObject> extends ReflectorOptions<T> {
  /** Where to list/watch: a kubeconfig plus resource, or a custom ListerWatcher. */
  kubeConfig?: KubeConfig;
  resource?: ResourceRef;
  /**
   * With `kubeConfig` + `resource` (Services or EndpointSlices): ask the server for protobuf and
   * decode it into the same objects as the JSON (`KubeListerWatcher`'s option). Default: JSON.
   */
  protobuf?: ProtobufWireOptions;
  listerWatcher?: ListerWatcher<T>;
  /** Secondary indexes; `namespace` is always present. */
  indexers?: Record<string, IndexFunc<T>>;
  /**
   * Keep the net-changes-per-object view for `takeDeltas()`. Off by default: with nobody taking
   * them the deltas would hold a second reference to every object (and the first version of
   * every updated one) for the life of the process.
   */
  trackDeltas?: boolean;
  /**
   * What the store keeps of an object once every handler has seen it: the add and update
   * handlers get the whole (transformed) object, while what is read later (an update's previous
   * state, a deletion noticed on a relist, `get`, `list`, indexes) is this. For consumers that
   * fold an object into their own form at its event and need only its identity afterwards
   * (kube-proxy keeps EndpointSlices without their endpoints). It may change the object in place
   * when no handler keeps it. With no `onChange` handler and no `trackDeltas`, each object of a
   * batch (a relist) is retained right after its own handlers ran, so a later object's handler
   * reads the earlier ones retained from the store. Default: keep the object whole.
   */
  retain?: (obj: T) => T;
}

/** Removes the handler it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * A reflector, an indexed store, event handlers and a delta view in one object: the
 * building block both node agents use for every resource they follow.
 */
export class Informer<T extends InformerObject> {
  readonly store: IndexedStore<T>;
  private readonly reflector: Reflector<T>;
  private readonly deltas: DeltaTracker<T> | undefined;
  private readonly addHandlers = new Set<(obj: T) => void>();
  private readonly updateHandlers = new Set<(oldObj: T, newObj: T) => void>();
  private readonly deleteHandlers = new Set<(obj: T) => void>();
  private readonly changeHandlers = new Set<(changes: StoreChange<T>[]) => void>();

  constructor(private readonly options: InformerOptions<T>) {
    let lw = options.listerWatcher;
    if (!lw) {
      if (!options.kubeConfig || !options.resource) {
        throw new InvalidOptionError(
          'listerWatcher',
          undefined,
          'give either listerWatcher or kubeConfig + resource',
        );
      }
      lw = new KubeListerWatcher<T>(options.kubeConfig, options.resource, { protobuf: options.protobuf });
    } else if (options.protobuf) {
      throw new InvalidOptionError(
        'protobuf',
        'listerWatcher',
        'applies to kubeConfig + resource, not a given listerWatcher',
      );
    }
    if (options.trackDeltas) this.deltas = new DeltaTracker<T>();
    this.store = new IndexedStore<T>({ namespace: namespaceIndex, ...(options.indexers ?? {}) });
    this.reflector = new Reflector<T>(lw, this.store, (changes) => this.dispatch(changes), options);
  }

  private report(err: unknown): void {
    this.options.onError?.(err);
  }

  private dispatch(changes: StoreChange<T>[]): void {
    const retain = this.options.retain;
    // With nothing reading the batch after the per-object handlers (no change handler, no
    // deltas), each object is retained as soon as its handlers ran: a relist or watch-list
    // stream of 1M endpoints then never holds every decoded object and what the handlers made
    // of them at once (kube-proxy's slices, ~226 MB decoded, and its model, ~115 MB).
    const retainEach = retain !== undefined && this.changeHandlers.size === 0 && !this.deltas;
    for (const c of changes) {
      this.deltas?.record(c);
      try {
        if (c.type === 'add') for (const h of this.addHandlers) h(c.current);
        else if (c.type === 'update') for (const h of this.updateHandlers) h(c.previous, c.current);
        else for (const h of this.deleteHandlers) h(c.final ?? c.previous);
      } catch (err) {
        // A broken handler must not stop the reflector.
        this.report(err);
      }
      if (retainEach) this.retainOne(c, retain);
    }
    if (retainEach) return;
    if (changes.length > 0) {
      for (const h of this.changeHandlers) {
        try {
          h(changes);
        } catch (err) {
          this.report(err);
        }
      }
    }
    if (this.options.retain) this.retainAll(changes, this.options.retain);
  }

  /** Stores what `retain` keeps of each added or updated object, now that its handlers have run. */
  private retainAll(changes: StoreChange<T>[], retain: (obj: T) => T): void {
    for (const c of changes) this.retainOne(c, retain);
  }

  private retainOne(c: StoreChange<T>, retain: (obj: T) => T): void {
    if (c.type === 'delete') return;
    try {
      this.store.swap(c.key, c.current, retain(c.current));
    } catch (err) {
      // The object stays stored whole.
      this.report(err);
    }
  }

  /** Called for each object new to the store (from a watch event or a relist). */
  onAdd(handler: (obj: T) => void): Unsubscribe {
    this.addHandlers.add(handler);
    return () => this.addHandlers.delete(handler);
  }

  /** Called with the stored and the new state of each object that changed. */
  onUpdate(handler: (oldObj: T, newObj: T) => void): Unsubscribe {
    this.updateHandlers.add(handler);
    return () => this.updateHandlers.delete(handler);
  }

  /**
   * Called with the object of the DELETED event (its final state), or with the last known
   * state when the deletion was only noticed on a relist.
   */
  onDelete(handler: (obj: T) => void): Unsubscribe {
    this.deleteHandlers.add(handler);
    return () => this.deleteHandlers.delete(handler);
  }

  /** Called once per batch (one watch event, or a whole relist) after the store changed. */
  onChange(handler: (changes: StoreChange<T>[]) => void): Unsubscribe {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  /** Starts listing and watching (once); returns this for chaining. */
  start(): this {
    this.reflector.start();
    return this;
  }

  /** Stops the watch; resolves when the reflector's loop has ended. */
  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** Whether the first full list has been stored. */
  hasSynced(): boolean {
    return this.reflector.hasSynced();
  }

  /**
   * Resolves once the first full list has been stored; rejects if stopped first, or with
   * `signal`'s reason once it aborts (the wait is then forgotten).
   */
  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.reflector.waitForSync(signal);
  }

  /** Net changes per object since the previous call (kube-proxy's change-tracker view); needs `trackDeltas`. */
  takeDeltas(): Delta<T>[] {
    if (!this.deltas) throw new InvalidOptionError('trackDeltas', false, 'must be true to use takeDeltas()');
    return this.deltas.take();
  }

  get lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion;
  }

  get stats(): Readonly<ReflectorStats> {
    return this.reflector.stats;
  }

  /** Every object in the store. */
  list(): T[] {
    return this.store.list();
  }

  /** The object stored under `namespace/name` (or `name` for cluster-scoped ones). */
  get(key: string): T | undefined {
    return this.store.get(key);
  }
}
