/** Edits for one new version of an OverlayMap. */
export interface MapDraft<K, V> {
  set(key: K, value: V): void;
  delete(key: K): void;
}

/**
 * Fold the edits into a fresh base once they reach 2·√(base size) (and at least MIN_COMPACT):
 * each version copies its edits (e/2 on average) and a fold copies the base once per e
 * versions (n/e each), which is least near e = √(2n). At 10k Services a version now copies
 * ~150 entries where folding at n/8 copied ~630: garbage that brought on a young-generation
 * collection every ~100 one-slice syncs. A fold (1-2 ms at 10k) comes every 200 changes.
 */
const MIN_COMPACT = 64;
const shouldFold = (edits: number, baseSize: number) => edits >= MIN_COMPACT && edits * edits >= 4 * baseSize;

/**
 * An immutable map whose next version costs in proportion to what changed, not to its size.
 * A snapshot at 10k Services used to copy the whole endpoints map (`new Map(old)`) for one
 * changed slice: ~1.3 ms and 10k entries of garbage per sync. Here every version shares one
 * base Map that is never modified, and carries its own small record of how it differs from
 * the base; `withChanges` copies only that record. Once the record reaches 2·√n entries the
 * new version gets a fresh base (one full copy per 2·√n changes).
 *
 * Iteration order is a Map's: keys in insertion order, a re-set key keeps its place, a key
 * deleted and set again goes to the end.
 */
export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    /** Never modified once a version holds it. */
    private readonly base: ReadonlyMap<K, V>,
    /** New values of base keys, at their base position. */
    private readonly over: ReadonlyMap<K, V>,
    /** Base keys absent from this version (deleted, or moved into `tail`). */
    private readonly removed: ReadonlySet<K>,
    /** Keys after the base ones, in insertion order. */
    private readonly tail: ReadonlyMap<K, V>,
  ) {}

  static empty<K, V>(): OverlayMap<K, V> {
    return new OverlayMap(new Map(), new Map(), new Set(), new Map());
  }

  /** A version holding the entries of `entries` (copied). */
  static from<K, V>(entries: Iterable<readonly [K, V]>): OverlayMap<K, V> {
    return new OverlayMap(new Map(entries), new Map(), new Set(), new Map());
  }

  /** A new version with `edit`'s changes; this one stays as it is. */
  withChanges(edit: (draft: MapDraft<K, V>) => void): OverlayMap<K, V> {
    const base = this.base;
    const over = new Map(this.over);
    const removed = new Set(this.removed);
    const tail = new Map(this.tail);
    edit({
      set(key, value) {
        if (tail.has(key) || !base.has(key) || removed.has(key)) tail.set(key, value);
        else over.set(key, value);
      },
      delete(key) {
        if (tail.delete(key)) return;
        if (base.has(key) && !removed.has(key)) {
          removed.add(key);
          over.delete(key);
        }
      },
    });
    const next = new OverlayMap(base, over, removed, tail);
    const edits = over.size + removed.size + tail.size;
    if (shouldFold(edits, base.size)) return OverlayMap.from(next);
    return next;
  }

  get size(): number {
    return this.base.size - this.removed.size + this.tail.size;
  }

  get(key: K): V | undefined {
    const t = this.tail.get(key);
    if (t !== undefined || this.tail.has(key)) return t;
    if (this.removed.has(key)) return undefined;
    return this.over.has(key) ? this.over.get(key) : this.base.get(key);
  }

  has(key: K): boolean {
    return this.tail.has(key) || (!this.removed.has(key) && this.base.has(key));
  }

  *entries(): MapIterator<[K, V]> {
    const { over, removed } = this;
    for (const [k, v] of this.base) {
      if (removed.size > 0 && removed.has(k)) continue;
      yield [k, over.size > 0 && over.has(k) ? (over.get(k) as V) : v];
    }
    yield* this.tail;
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
