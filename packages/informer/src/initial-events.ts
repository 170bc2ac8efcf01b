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
 */
export class InitialEvents<T extends InformerObject> {
  private readonly objects = new Map<string, T>();

  /** An ADDED (or MODIFIED) event of the initial state. */
  put(obj: T): void {
    this.objects.set(objectKey(obj), obj);
  }

  /** A DELETED event before the end bookmark (a server may send one; apply it all the same). */
  remove(obj: T): void {
    this.objects.delete(objectKey(obj));
  }

  get size(): number {
    return this.objects.size;
  }

  /** Everything the stream delivered, for the store's replace. */
  items(): T[] {
    return [...this.objects.values()];
  }
}
