/** What the trim calls after its collections when given one (the tests' fakes). */
export interface PageRelease {
  releaseExecutablePages(): number;
  evictExecutableCache(): number;
  releaseMallocFree(): boolean;
}
export interface HeapTrimState {
  live: number;
  last: number;
  /** undefined until the first collection (start-up). */
  collectedAt: number | undefined;
  trailing: boolean;
  /** The last memory-freed event not yet followed by a collection. */
  freedAt?: number;
  /** The next periodic collection is the memory-reducing one (it follows a memory-freed collection). */
  reduceNext?: boolean;
  /** Checks left that call malloc_trim after a collection. */
  retrims?: number;
  /** When pages were last released (quiet checks release only every quietReleaseMs). */
  releasedAt?: number;
  /** The used heap at that release (after the collection, when one ran): a burst's end that grew it less than SMALL_BURST_BYTES waits like a quiet check. */
  releasedUsed?: number;
  /** A burst ended since the last release: the next release trims malloc too. */
  mallocOwed?: boolean;
  /** The gap after which a collection runs whatever the growth (MAX_GAP_MS, up to MAX_IDLE_GAP_MS). */
  periodMs?: number;
  /** The collection that ends the start-up (REDUCE_MEMORY unless startHeapTrim's plainStartUpCollection). */
  startUpCollection?: GcOptions;
}
/** V8's used heap and what it holds committed for it, in bytes. */
export interface HeapReading {
  used: number;
  committed: number;
}
export declare const CHECK_INTERVAL_MS: number;
export declare const SLACK_BYTES: number;
export declare const QUIET_BYTES: number;
export declare const MIN_GAP_MS: number;
export declare const MAX_GAP_MS: number;
export declare const MAX_IDLE_GAP_MS: number;
export declare const PERIODIC_YIELD_BYTES: number;
export declare const BURST_ENDED_EVENT: string;
export declare const MEMORY_FREED_EVENT: string;
/** Emitted by an app when its start-up begins: the trim checks nothing until STARTED_EVENT. */
export declare const STARTING_EVENT: string;
/** Emitted by an app when its start-up is over: the checks start from then. */
export declare const STARTED_EVENT: string;
/** The longest the trim waits for STARTED_EVENT after STARTING_EVENT. */
export declare const START_UP_HOLD_MAX_MS: number;
export declare const FREED_SETTLE_MS: number;
/** How long after the app's last burst-ended event the timer's checks leave collections to those events. */
export declare const BURST_QUIET_MS: number;
export declare const MALLOC_RETRIMS: number;
/** How often a quiet check releases pages by default (startHeapTrim's quietReleaseMs). */
export declare const QUIET_RELEASE_MS: number;
/** How often a quiet release runs while an app's bursts come less than BURST_QUIET_MS apart (startHeapTrim's burstReleaseMs). */
export declare const BURST_RELEASE_MS: number;
/** Heap growth since the last release below which a burst's end releases no sooner than a quiet check. */
export declare const SMALL_BURST_BYTES: number;
export declare const NO_RELEASE: PageRelease;
export declare const EVICT_CACHE_AT_CHECKS: readonly number[];
/** Options of V8's gc extension for one collection. */
export interface GcOptions {
  type: 'major';
  execution: 'sync';
  flavor: 'last-resort' | 'regular';
}
/** The memory-reducing collection (also discards all compiled code not on the stack). */
export declare const REDUCE_MEMORY: GcOptions;
/** The periodic full collection, which keeps compiled code (except the one after a memory-freed collection). */
export declare const FULL: GcOptions;
export declare function initialState(used: number, startUpCollection?: GcOptions): HeapTrimState;
export declare function check(
  state: HeapTrimState,
  readHeap: () => HeapReading,
  gc: ((options: GcOptions) => void) | undefined,
  now: number,
  release?: PageRelease,
  burstEnded?: boolean,
  trimEveryCheck?: boolean,
  quietReleaseMs?: number,
  startUpMarkCompact?: () => number | undefined,
): HeapTrimState;
/**
 * Starts watching V8's own collections; the function it returns stops the watch (first call only)
 * and gives the used heap right after V8's last mark-compact, or undefined when it ran none.
 */
export declare function watchMarkCompacts(): () => number | undefined;
export declare function startHeapTrim(options?: {
  gc?: unknown;
  readHeap?: () => HeapReading;
  intervalMs?: number;
  release?: PageRelease;
  now?: () => number;
  /** malloc_trim at every releasing check, not only after collections and bursts. */
  mallocTrimEveryCheck?: boolean;
  /** How often a quiet check releases pages (default QUIET_RELEASE_MS). */
  quietReleaseMs?: number;
  /** How often a quiet release runs while bursts come less than BURST_QUIET_MS apart (default BURST_RELEASE_MS; quietReleaseMs when longer). */
  burstReleaseMs?: number;
  /** The collection that ends the start-up is a plain full one (FULL), not REDUCE_MEMORY. */
  plainStartUpCollection?: boolean;
  /** What watches V8's mark-compacts during the start-up (tests; watchMarkCompacts by default). */
  watchGc?: () => () => number | undefined;
}): (() => void) | undefined;
