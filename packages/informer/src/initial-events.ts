import type { InformerObject } from './informer-object';
import { objectKey } from './object-key';

/** The annotation on the BOOKMARK that ends a watch-list stream's initial state (metav1.InitialEventsAnnotationKey). */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/** Whether a BOOKMARK's object marks the end of the initial events. */
export function isInitialEventsEnd(obj: InformerObject | undefined): boolean {
  return obj?.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true';
}

/**
 * The state a watch-list stream has sent so far, before its end bookmark: kept apart from the
 * informer's store, which it replaces whole once complete (client-go's temporary store), so a
 * stream that fails halfway changes nothing and handlers see one relist, not a trickle of adds.
 *
 * Or, `direct` (ReflectorOptions.applyInitialEventsAsTheyArrive, into an empty store only), a
 * count of the events the reflector applied to the store one by one as they arrived: then no
 * object waits here for the bookmark. Held, a 44k-Service start kept every decoded Service and
 * EndpointSlice alive until its stream ended, so each was copied by the young generation's
 * collections, promoted, and only then dropped by the handlers' retain (issue #54).
 */
export class InitialEvents<T extends InformerObject> {
  private readonly objects = new Map<string, T>();
  private applied = 0;

  constructor(
    /** The stream's objects go to the store as they arrive; this only counts them. */
    readonly direct = false,
  ) {}

  /** An ADDED (or MODIFIED) event of the initial state. */
  put(obj: T): void {
    this.objects.set(objectKey(obj), obj);
  }

  /** A DELETED event before the end bookmark (a server may send one; apply it all the same). */
  remove(obj: T): void {
    this.objects.delete(objectKey(obj));
  }

  /** An event a `direct` stream applied to the store. */
  countApplied(): void {
    this.applied++;
  }

  /** Objects held (or, `direct`, events applied) so far. */
  get size(): number {
    return this.direct ? this.applied : this.objects.size;
  }

  /**
   * Everything the stream delivered, for the store's replace, and forgets it: the reflector's
   * loop still refers to this while the same stream goes on as the watch (minutes), and the
   * objects must not outlive the store's own copies (an informer's `retain` replaces them).
   */
  take(): T[] {
    const items = [...this.objects.values()];
    this.objects.clear();
    return items;
  }
}
