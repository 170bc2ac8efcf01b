/** Edits for one new version of an OverlayMap. */
export interface MapDraft<K, V> {
  set(key: K, value: V): void;
  delete(key: K): void;
}

/**
 * Fold the edits into a fresh base once they reach √(2·MAX_JOURNAL·n) (and at least
 * MIN_COMPACT): the settled layers (e entries) are copied once per MAX_JOURNAL versions, on
 * average e/(2·MAX_JOURNAL) entries per version while e grows, and a fold copies the base once
 * per e versions (n/e each), which is least at e = √(2·MAX_JOURNAL·n): 566 at 10k Services.
 * A fold is one copy of the whole map (~3 ms of CPU at 10k on a loaded machine, one of the
 * largest single changes): folding at 2·√n, right when every version copied its edits, put
 * one in every 200 one-slice changes.
 */
const MIN_COMPACT = 64;
const shouldFold = (edits: number, baseSize: number) =>
  edits >= MIN_COMPACT && edits * edits >= 2 * MAX_JOURNAL * baseSize;

/** A journal entry's value for a deleted key. */
const DELETED: unique symbol = Symbol('deleted');

/**
 * Versions chained onto the last settled layers before their edits are copied into new ones:
 * copying the layers (e/2 entries on average, ~100 at 10k Services) for every one-slice version
 * was the largest part of a change's garbage. A lookup walks at most this many journal entries.
 */
const MAX_JOURNAL = 16;

/** What stateAfter returns for a key the edits did not touch. */
const UNTOUCHED: unique symbol = Symbol('untouched');

/**
 * Up to this many edits a version keeps no Map of its keys' states: a lookup scans them (a
 * one-slice change edits one or two keys, and a Map per version was most of its garbage).
 */
const SCAN_LIMIT = 8;

/** Map's key equality (SameValueZero). */
const sameKey = (a: unknown, b: unknown) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** `key`'s state after a version's edits (`ops`, or `last` when kept): its value, DELETED or UNTOUCHED. */
function stateAfter<K, V>(
  edits: {
    readonly ops: readonly (readonly [K, V | typeof DELETED])[];
    readonly last?: ReadonlyMap<K, V | typeof DELETED> | undefined;
  },
  key: K,
): V | typeof DELETED | typeof UNTOUCHED {
  const { last, ops } = edits;
  if (last) {
    const v = last.get(key);
    return v !== undefined || last.has(key) ? (v as V | typeof DELETED) : UNTOUCHED;
  }
  for (let i = ops.length - 1; i >= 0; i--) if (sameKey(ops[i]![0], key)) return ops[i]![1];
  return UNTOUCHED;
}

/** The edits of one new version, as withChanges' callback makes them. */
class Draft<K, V> implements MapDraft<K, V> {
  readonly ops: (readonly [K, V | typeof DELETED])[] = [];
  last: Map<K, V | typeof DELETED> | undefined;
  /** Whether any edit was a delete (a first version of only sets can take `last` as its base). */
  deletes = false;

  constructor(
    private readonly version: OverlayMap<K, V>,
    public size: number,
  ) {}

  private has(key: K): boolean {
    const v = stateAfter(this, key);
    return v === UNTOUCHED ? this.version.has(key) : v !== DELETED;
  }

  private record(key: K, value: V | typeof DELETED): void {
    if (value === DELETED) this.deletes = true;
    this.ops.push([key, value]);
    if (this.last) this.last.set(key, value);
    else if (this.ops.length > SCAN_LIMIT) this.last = new Map(this.ops);
  }

  set(key: K, value: V): void {
    if (!this.has(key)) this.size++;
    this.record(key, value);
  }

  delete(key: K): void {
    if (!this.has(key)) return;
    this.size--;
    this.record(key, DELETED);
  }
}

/** One version's edits, newest first through `parent`. */
interface Journal<K, V> {
  readonly parent: Journal<K, V> | undefined;
  readonly depth: number;
  /** Edits in the order made (a delete then a set moves a key to the end: order matters). */
  readonly ops: readonly (readonly [K, V | typeof DELETED])[];
  /** Each key's state after this version's edits, once there are more than SCAN_LIMIT of them. */
  readonly last: ReadonlyMap<K, V | typeof DELETED> | undefined;
  /** Edits in this entry and its parents (an upper bound of the distinct keys edited). */
  readonly opCount: number;
}

/**
 * An immutable map whose next version costs in proportion to what changed, not to its size.
 * A snapshot at 10k Services used to copy the whole endpoints map (`new Map(old)`) for one
 * changed slice: ~1.3 ms and 10k entries of garbage per sync. Here every version shares one
 * base Map that is never modified, and carries a record of how it differs from the base: a few
 * settled layers shared with earlier versions plus a short journal of its own edits; every
 * MAX_JOURNAL versions the journal is copied into new layers. Once the edits reach 2·√n entries
 * the new version gets a fresh base (one full copy per 2·√n changes).
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
    /** Base keys absent from the settled layers (deleted, or moved into `tail`). */
    private readonly removed: ReadonlySet<K>,
    /** Keys after the base ones, in insertion order. */
    private readonly tail: ReadonlyMap<K, V>,
    /** Edits after the settled layers, newest first; undefined when there are none. */
    private readonly journal: Journal<K, V> | undefined,
    /** Entries of this version (the journal makes it costly to derive). */
    readonly size: number,
  ) {}

  static empty<K, V>(): OverlayMap<K, V> {
    return new OverlayMap(new Map(), new Map(), new Set(), new Map(), undefined, 0);
  }

  /** A version holding the entries of `entries` (copied). */
  static from<K, V>(entries: Iterable<readonly [K, V]>): OverlayMap<K, V> {
    const base = new Map(entries);
    return new OverlayMap(base, new Map(), new Set(), new Map(), undefined, base.size);
  }

  /** A new version with `edit`'s changes; this one stays as it is. */
  withChanges(edit: (draft: MapDraft<K, V>) => void): OverlayMap<K, V> {
    const draft = new Draft(this, this.size);
    edit(draft);
    const { ops, last, size } = draft;
    if (ops.length === 0) return this;
    // Sets into an empty map (the first snapshot at start-up): their key → value Map is the
    // new version's base as it is, instead of a journal settled into a tail and folded into a
    // base (two more copies of every entry: 44k Services' endpoints at a cold start).
    if (this.size === 0 && this.journal === undefined && last && !draft.deletes)
      return new OverlayMap(last as Map<K, V>, new Map(), new Set(), new Map(), undefined, last.size);
    const parent = this.journal;
    const journal: Journal<K, V> = {
      parent,
      depth: (parent?.depth ?? 0) + 1,
      ops,
      last,
      opCount: (parent?.opCount ?? 0) + ops.length,
    };
    const settledEdits = this.over.size + this.removed.size + this.tail.size;
    if (journal.depth < MAX_JOURNAL && !shouldFold(settledEdits + journal.opCount, this.base.size))
      return new OverlayMap(this.base, this.over, this.removed, this.tail, journal, size);
    const next = this.settle(journal, size);
    const edits = next.over.size + next.removed.size + next.tail.size;
    if (shouldFold(edits, next.base.size)) return next.fold();
    return next;
  }

  get(key: K): V | undefined {
    for (let j = this.journal; j; j = j.parent) {
      const v = stateAfter(j, key);
      if (v !== UNTOUCHED) return v === DELETED ? undefined : v;
    }
    const t = this.tail.get(key);
    if (t !== undefined || this.tail.has(key)) return t;
    if (this.removed.has(key)) return undefined;
    return this.over.has(key) ? this.over.get(key) : this.base.get(key);
  }

  has(key: K): boolean {
    for (let j = this.journal; j; j = j.parent) {
      const v = stateAfter(j, key);
      if (v !== UNTOUCHED) return v !== DELETED;
    }
    return this.tail.has(key) || (!this.removed.has(key) && this.base.has(key));
  }

  *entries(): MapIterator<[K, V]> {
    const settled = this.journal ? this.settled() : this;
    const { over, removed } = settled;
    for (const [k, v] of settled.base) {
      if (removed.size > 0 && removed.has(k)) continue;
      yield [k, over.size > 0 && over.has(k) ? (over.get(k) as V) : v];
    }
    yield* settled.tail;
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

  /** A settled version's entries as a fresh base, without the iterator's [key, value] pair per entry. */
  private fold(): OverlayMap<K, V> {
    const { over, removed } = this;
    const base = new Map<K, V>();
    this.base.forEach((v, k) => {
      if (removed.has(k)) return;
      const o = over.get(k);
      base.set(k, o !== undefined || over.has(k) ? (o as V) : v);
    });
    for (const [k, v] of this.tail) base.set(k, v);
    return new OverlayMap(base, new Map(), new Set(), new Map(), undefined, base.size);
  }

  /** This version with its journal copied into layers (computed once, for iteration). */
  private settledCache: OverlayMap<K, V> | undefined;
  private settled(): OverlayMap<K, V> {
    if (!this.journal) return this;
    this.settledCache ??= this.settle(this.journal, this.size);
    return this.settledCache;
  }

  /** New layers: this version's settled ones with `journal`'s edits replayed oldest first. */
  private settle(journal: Journal<K, V>, size: number): OverlayMap<K, V> {
    const base = this.base;
    const over = new Map(this.over);
    const removed = new Set(this.removed);
    const tail = new Map(this.tail);
    const chain: Journal<K, V>[] = [];
    for (let j: Journal<K, V> | undefined = journal; j; j = j.parent) chain.push(j);
    for (let i = chain.length - 1; i >= 0; i--) {
      for (const [key, value] of chain[i]!.ops) {
        if (value === DELETED) {
          if (tail.delete(key)) continue;
          if (base.has(key) && !removed.has(key)) {
            removed.add(key);
            over.delete(key);
          }
        } else if (tail.has(key) || !base.has(key) || removed.has(key)) tail.set(key, value);
        else over.set(key, value);
      }
    }
    return new OverlayMap(base, over, removed, tail, undefined, size);
  }
}
