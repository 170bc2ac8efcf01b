import type { StoreChange } from './indexed-store';
import type { InformerObject } from './informer-object';

/**
 * The net change of one object since the last `take()`: `previous` is its state at the last
 * sync (undefined if it did not exist), `current` its state now (undefined if deleted).
 */
export interface Delta<T> {
  key: string;
  previous?: T;
  current?: T;
}

/**
 * Collapses store changes into one net delta per object since the last sync, the shape
 * kube-proxy's service and endpoint change trackers consume. An object added and deleted
 * between two syncs disappears from the view entirely.
 */
export class DeltaTracker<T extends InformerObject> {
  private readonly pending = new Map<string, { previous: T | undefined; current: T | undefined }>();

  /** Folds one store change into the pending net change of its object. */
  record(change: StoreChange<T>): void {
    const existing = this.pending.get(change.key);
    const previous = existing ? existing.previous : change.type === 'add' ? undefined : change.previous;
    const current = change.type === 'delete' ? undefined : change.current;
    if (previous === undefined && current === undefined) this.pending.delete(change.key);
    else this.pending.set(change.key, { previous, current });
  }

  get size(): number {
    return this.pending.size;
  }

  /** Return and clear the deltas accumulated since the previous call. */
  take(): Delta<T>[] {
    const out: Delta<T>[] = [];
    for (const [key, d] of this.pending) {
      // Changed and changed back (same resourceVersion) is no change.
      if (
        d.previous &&
        d.current &&
        d.previous.metadata?.resourceVersion === d.current.metadata?.resourceVersion
      ) {
        continue;
      }
      const delta: Delta<T> = { key };
      if (d.previous) delta.previous = d.previous;
      if (d.current) delta.current = d.current;
      out.push(delta);
    }
    this.pending.clear();
    return out;
  }
}
