// A container's elements by id, in insertion order, for containers that grow large (issue #54).
// A JS Map (or Set) is one hash table object that doubles as it fills: at 1M endpoints
// kube-proxy's two largest containers ended at 29 and 21 MB tables, and every smaller table they
// outgrew (as much again) stayed behind as garbage in V8's large-object space until the next
// full collection, inside the first sync, right when the netlink batch (66 MB) is built.
// Here the ids and values sit in fixed-size chunk arrays (regular heap objects, never copied) and
// the hash index is an Int32Array: growing it leaves 4 bytes a slot behind, not 28 a Map entry.

/**
 * What IncrementalNftTable needs of one container's elements by id: IdTable (a JS Map has all
 * but getOrAdd and append). Iteration order is insertion order; setting a held id keeps its place.
 */
export interface ElementMap<V, S = undefined> {
  readonly size: number;
  get(id: string): V | undefined;
  set(id: string, value: V): this;
  /** The value held for `id`, else undefined after storing `value` for it. */
  getOrAdd(id: string, value: V): V | undefined;
  delete(id: string): boolean;
  forEach(visit: (value: V, id: string) => void): void;
  /**
   * forEach over at most `count` positions from `start` (0 first): returns the position to go
   * on from, or -1 once the last was visited. Positions hold while the map is not changed.
   */
  forEachFrom(start: number, count: number, visit: (value: V, id: string) => void): number;
  /**
   * Adds `id` from `source` without looking it up: for filling a new table, whose index is then
   * built once, at its final size, when next needed. An id held or appended before joins the
   * first one's entry then (the table's MergeAppended); it does not count in `size` till then.
   */
  append(id: string, value: V, source: S): void;
  /**
   * Indexes up to `count` of the appended entries (what the first read after appends does for
   * all of them), so a large fill's index can be built in steps; whether none is left.
   */
  indexAppendedSome(count: number): boolean;
}

/**
 * How an appended id that turns out to be held already joins the held entry: the entry's new
 * value, from the held one and the `value` appended by `source`.
 */
export type MergeAppended<V, S> = (held: V, value: V, source: S) => V;

/** Entries per chunk: 2 slots each, a 64 KB array (below V8's large-object size). */
const CHUNK = 4096;
/**
 * Index slots: 0 empty, else the entry's position + 1 in the low POSITION_BITS and the top
 * TAG_BITS of its id's hash above them. A delete leaves no marker behind (unindex): with markers,
 * an index under steady churn filled with them up to its half-full limit and was then rebuilt
 * whole, in kube-proxy at 250k endpoints a 20-45 ms task every ~10k endpoint changes. A probe
 * compares the tag before reading the id: a full sync adds 510k ids (5,000 Services × 50
 * endpoints) whose probes otherwise compared strings of the same length and mostly the same
 * characters.
 */
const EMPTY = 0;
const POSITION_BITS = 24;
const POSITION_MASK = (1 << POSITION_BITS) - 1;
/** 7 bits: every live slot stays a positive int32. */
const TAG_SHIFT = 32 - 7;
/** Positions up to 2^24 - 1, as many entries as a JS Map holds. */
const MAX_POSITIONS = POSITION_MASK;
const MIN_SLOTS = 16;

/** The index slot value of the entry at `at` whose id has `hash`. */
const slotValue = (hash: number, at: number) => ((hash >>> TAG_SHIFT) << POSITION_BITS) | (at + 1);
/** The position a live index slot value points at. */
const positionOf = (value: number) => (value & POSITION_MASK) - 1;

/**
 * A string hash (FNV-1a over the UTF-16 code units, 32-bit). V8 does not expose the hash it
 * keeps in each string; ids are short (10-30 characters), so this is a few ns per character.
 */
export function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Ids → values in insertion order, with a JS Map's semantics for what IncrementalNftTable uses
 * (ElementMap): setting a held id keeps its place; a deleted id set again goes last.
 */
export class IdTable<V, S = undefined> implements ElementMap<V, S> {
  /** Chunks of [id, value] pairs by position; a deleted entry's id is undefined. */
  private chunks: (string | V | undefined)[][] = [[]];
  private index = new Int32Array(MIN_SLOTS);
  /** Positions used, deleted ones included. */
  private end = 0;
  /** Positions below this are in the index; the ones from here on were appended since. */
  private indexedEnd = 0;
  /** Entries in the index. */
  private live = 0;
  /** The sources of the positions from indexedEnd on, in runs: where each run starts, and its source. */
  private runStarts: number[] = [];
  private runSources: S[] = [];

  /**
   * `merge`: how an appended id that was held already joins its entry; by default its value
   * replaces the held one (as Map.set).
   */
  constructor(private readonly merge: MergeAppended<V, S> = (_held, value) => value) {}

  get size(): number {
    this.indexAppended();
    return this.live;
  }

  get(id: string): V | undefined {
    this.indexAppended();
    const slot = this.find(id, hashOf(id));
    if (slot < 0) return undefined;
    const at = positionOf(this.index[slot] as number);
    return this.chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK) + 1] as V;
  }

  set(id: string, value: V): this {
    this.indexAppended();
    const hash = hashOf(id);
    const slot = this.find(id, hash);
    if (slot >= 0) {
      const at = positionOf(this.index[slot] as number);
      this.chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK) + 1] = value;
      return this;
    }
    this.insert(id, hash, value);
    return this;
  }

  /**
   * The value held for `id`; when there is none, `value` is stored for it (and undefined
   * returned). One hash and one probe where `get` then `set` took two of each: a full sync adds
   * every element of the table this way (510k at 5,000 Services × 50 endpoints).
   */
  getOrAdd(id: string, value: V): V | undefined {
    this.indexAppended();
    const hash = hashOf(id);
    const slot = this.find(id, hash);
    if (slot >= 0) {
      const at = positionOf(this.index[slot] as number);
      return this.chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK) + 1] as V;
    }
    this.insert(id, hash, value);
    return undefined;
  }

  /** Stores a new id (not held) at the end. */
  private insert(id: string, hash: number, value: V): void {
    if (2 * (this.live + 1) > this.index.length) this.rehash(this.live + 1, this.end);
    this.place(hash, this.appendEntry(id, value));
    this.indexedEnd = this.end;
    this.live++;
  }

  /**
   * A first fill's adds. Looked up one by one, the index doubled as it filled and every doubling
   * hashed and placed each id again (at 1M endpoints, 2M ids: 0.26 s of the first sync's 0.62 s
   * in these tables in the scale bench's CPU profile, KP_SCALE_CPU_PROF=1). Appended, each id is hashed and placed once, in an
   * index sized for all of them (1M ids into one table: 175-255 ms against 287-579 ms).
   */
  append(id: string, value: V, source: S): void {
    const at = this.appendEntry(id, value);
    const runs = this.runSources.length;
    if (runs === 0 || this.runSources[runs - 1] !== source) {
      this.runStarts.push(at);
      this.runSources.push(source);
    }
  }

  /** Indexes the entries appended since the index was last complete, merging held ids. */
  private indexAppended(): void {
    this.indexAppendedSome(Number.POSITIVE_INFINITY);
  }

  indexAppendedSome(count: number): boolean {
    if (this.indexedEnd === this.end) return true;
    const needed = this.live + (this.end - this.indexedEnd);
    if (2 * needed > this.index.length) this.rehash(needed, this.indexedEnd);
    const { chunks, runStarts, runSources } = this;
    const end = Math.min(this.end, this.indexedEnd + count);
    let run = 0;
    for (let at = this.indexedEnd; at < end; at++) {
      const chunk = chunks[Math.floor(at / CHUNK)]!;
      const id = chunk[2 * (at % CHUNK)] as string;
      const hash = hashOf(id);
      const slot = this.find(id, hash);
      if (slot < 0) {
        this.place(hash, at);
        this.live++;
        continue;
      }
      // Held already: the entry keeps its place, with the merged value; this position is a hole.
      const held = positionOf(this.index[slot] as number);
      const heldChunk = chunks[Math.floor(held / CHUNK)]!;
      const value = chunk[2 * (at % CHUNK) + 1] as V;
      while (run + 1 < runStarts.length && runStarts[run + 1]! <= at) run++;
      heldChunk[2 * (held % CHUNK) + 1] = this.merge(
        heldChunk[2 * (held % CHUNK) + 1] as V,
        value,
        runSources[run]!,
      );
      chunk[2 * (at % CHUNK)] = undefined;
      chunk[2 * (at % CHUNK) + 1] = undefined;
    }
    this.indexedEnd = end;
    if (end < this.end) return false;
    this.runStarts = [];
    this.runSources = [];
    return true;
  }

  delete(id: string): boolean {
    this.indexAppended();
    const slot = this.find(id, hashOf(id));
    if (slot < 0) return false;
    const at = positionOf(this.index[slot] as number);
    const chunk = this.chunks[Math.floor(at / CHUNK)]!;
    chunk[2 * (at % CHUNK)] = undefined;
    chunk[2 * (at % CHUNK) + 1] = undefined;
    this.unindex(slot);
    this.live--;
    // Mostly holes: pack the entries (their order kept) so iteration and memory follow the size.
    if (this.end >= CHUNK && 2 * this.live < this.end) this.compact();
    return true;
  }

  forEach(visit: (value: V, id: string) => void): void {
    this.indexAppended();
    const { chunks, end } = this;
    for (let at = 0; at < end; at++) {
      const chunk = chunks[Math.floor(at / CHUNK)]!;
      const id = chunk[2 * (at % CHUNK)];
      if (id !== undefined) visit(chunk[2 * (at % CHUNK) + 1] as V, id as string);
    }
  }

  forEachFrom(start: number, count: number, visit: (value: V, id: string) => void): number {
    this.indexAppended();
    const { chunks, end } = this;
    const stop = Math.min(end, start + count);
    for (let at = start; at < stop; at++) {
      const chunk = chunks[Math.floor(at / CHUNK)]!;
      const id = chunk[2 * (at % CHUNK)];
      if (id !== undefined) visit(chunk[2 * (at % CHUNK) + 1] as V, id as string);
    }
    return stop < end ? stop : -1;
  }

  /** The index slot holding `id` (whose hash is `hash`), or -1. */
  private find(id: string, hash: number): number {
    const index = this.index;
    const mask = index.length - 1;
    const tag = (hash >>> TAG_SHIFT) << POSITION_BITS;
    let slot = hash & mask;
    for (;;) {
      const entry = index[slot] as number;
      if (entry === EMPTY) return -1;
      if ((entry & ~POSITION_MASK) === tag) {
        const at = positionOf(entry);
        if (this.chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK)] === id) return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Points the first free slot of the probe sequence of `hash` at position `at`. */
  private place(hash: number, at: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let slot = hash & mask;
    while (index[slot] !== EMPTY) slot = (slot + 1) & mask;
    index[slot] = slotValue(hash, at);
  }

  /**
   * Empties index slot `slot` and closes the gap it leaves in its run of full slots (Knuth's
   * deletion for linear probing, Algorithm R): each later entry of the run whose probe would now
   * stop at the gap before reaching it moves back into the gap, which moves on to its slot. A
   * run is short at the index's load of at most a half, so a delete hashes a few ids.
   */
  private unindex(slot: number): void {
    const { index, chunks } = this;
    const mask = index.length - 1;
    let gap = slot;
    index[gap] = EMPTY;
    for (let next = (gap + 1) & mask; index[next] !== EMPTY; next = (next + 1) & mask) {
      const entry = index[next] as number;
      const at = positionOf(entry);
      const home = hashOf(chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK)] as string) & mask;
      // Its probe, from `home`, reaches it without passing the gap when `home` lies after the gap, up to `next` (cyclically).
      const reachedWithoutGap = gap < next ? gap < home && home <= next : gap < home || home <= next;
      if (reachedWithoutGap) continue;
      index[gap] = entry;
      index[next] = EMPTY;
      gap = next;
    }
  }

  /** Stores the pair at the next position; a new chunk is allocated at its full size. */
  private appendEntry(id: string, value: V): number {
    if (this.end === MAX_POSITIONS) throw new RangeError('IdTable maximum size exceeded');
    const at = this.end++;
    const c = Math.floor(at / CHUNK);
    if (c === this.chunks.length) this.chunks.push(new Array(2 * CHUNK));
    // The first chunk grows as it fills (a small container stays small); later ones are made whole.
    const chunk = this.chunks[c]!;
    chunk[2 * (at % CHUNK)] = id;
    chunk[2 * (at % CHUNK) + 1] = value;
    return at;
  }

  /** A new index for `entries`, at most half full: the entries below `end` in it. */
  private rehash(entries: number, end: number): void {
    let slots = MIN_SLOTS;
    while (slots < 2 * entries) slots *= 2;
    this.index = new Int32Array(slots);
    const { chunks } = this;
    for (let at = 0; at < end; at++) {
      const id = chunks[Math.floor(at / CHUNK)]![2 * (at % CHUNK)];
      if (id !== undefined) this.place(hashOf(id as string), at);
    }
  }

  /**
   * Moves the live entries to the front, in order, and drops the chunks left empty. The index
   * keeps its slots (an id's slot follows from its hash, not its position): each slot is only
   * pointed at its entry's new position, so no id is hashed again (at 250k endpoints the
   * rebuild this replaces was 24 ms of a 40 ms task in the soak). An index 8 times the entries
   * or more is rebuilt smaller instead.
   */
  private compact(): void {
    const { chunks, end } = this;
    const moved = new Int32Array(end);
    let to = 0;
    for (let at = 0; at < end; at++) {
      const from = chunks[Math.floor(at / CHUNK)]!;
      const id = from[2 * (at % CHUNK)];
      if (id === undefined) continue;
      moved[at] = to;
      if (to !== at) {
        const into = chunks[Math.floor(to / CHUNK)]!;
        into[2 * (to % CHUNK)] = id;
        into[2 * (to % CHUNK) + 1] = from[2 * (at % CHUNK) + 1];
        from[2 * (at % CHUNK)] = undefined;
        from[2 * (at % CHUNK) + 1] = undefined;
      }
      to++;
    }
    this.end = to;
    this.indexedEnd = to;
    chunks.length = Math.max(1, Math.ceil(to / CHUNK));
    const index = this.index;
    // A table that shrank gets a smaller index, as a Map's does.
    if (index.length > MIN_SLOTS && index.length >= 8 * this.live) {
      this.rehash(this.live, to);
      return;
    }
    for (let slot = 0; slot < index.length; slot++) {
      const entry = index[slot] as number;
      if (entry !== EMPTY) index[slot] = (entry & ~POSITION_MASK) | (moved[positionOf(entry)]! + 1);
    }
  }
}
