// Gives memory back after bursts of work: a memory-reducing full GC when the heap has grown well
// above what the last collection left live (at most every 10 s; a plain full GC every 30 s
// otherwise, see REDUCE_MEMORY for why not the memory-reducing one, and up to every 240 s while
// those give back little, see PERIODIC_YIELD_BYTES), and, with the page-release
// addon, malloc_trim after it (or at every release, `mallocTrimEveryCheck`) and the executable's
// file pages dropped after it, at a burst's end and otherwise every QUIET_RELEASE_MS (and its
// page cache evicted and read back in small folios after start, see EVICT_CACHE_AT_CHECKS).
// Part of the single executables' entry (build.mjs); collections need `gc` (the executables get
// it from expose-gc.cjs), the rest needs the addon (page-release.cjs).
//
// Why collect: V8 sizes the old generation for throughput. A kube-proxy full sync at 10k
// Services allocates hundreds of MB of short-lived rule text and decoded JSON; afterwards the
// daemon is nearly idle, allocates too little to trigger a major GC, and the heap stays at its
// peak (measured: 465 MB used, 134 MB of it live, still 30 s after the sync). Go's runtime, which
// upstream's memory numbers come from, bounds the heap by the live size (GOGC) and returns freed
// memory in the background. Here: if the used heap is at least 16 MB above the live size after
// the last collection and the last collection is 10 s old, collect (and once more 10 s later if
// that collection caught the burst mid-way), and in any case every 30 s. Start-up is a burst
// too (module evaluation, the first lists, the first sync): the first collection comes as soon
// as it is over, at the first check that finds the heap quiet or when the app says a burst
// ended. A collection costs what V8's own major GC would: about 0.1 s at 10k Services (a 134 MB
// live heap), a few ms for an idle kubelet.
//
// Why malloc_trim: glibc keeps freed memory in its arenas (V8's compiler zones on the worker
// threads, buffers, strings outside the heap) and returns only the top of its heap by itself;
// malloc_trim(0) returns the free pages inside too. After a collection, and at the
// MALLOC_RETRIMS checks after it: memory a collection freed outside the JS heap (Buffers'
// backing stores, native objects behind collected wrappers) reaches malloc's free lists only
// after the collection returns, from V8's background sweeping and its weak callbacks.
// At every check with `mallocTrimEveryCheck` (the kubelet): a burst leaves malloc's heap larger
// and fragmented (the kubelet's, at 110 pods: 8.5 MiB idle, 17 MiB after the pods were deleted,
// its top held by a few live chunks), and the daemon's ongoing allocations land all over it and
// touch the free pages again: after the delete its resident part went from 8.8 to 11.1 MiB within
// 8 s of a trim; trimmed at every check it stayed at 8.0-8.1 MiB (6.2 idle, 6.7-7.0 before). A
// trim of one fragmented arena took 0.3-1 ms in a synthetic test; `perf` over 20 s of the kubelet
// at 110 pods found no sample in malloc_trim. kube-proxy, with an arena per busy thread,
// keeps the trims after collections: trimmed at every check, its CPU in the minute after a
// 1k-Service sync went from 0.31-0.32 to 0.39-0.46 CPU-seconds (one run each; 10k: 0.65, 0.62).
//
// Why drop file pages: the Node runtime is ~130 MB of executable; start-up touches 35-65 MiB of
// it (V8's compilers, ICU data, Node's built-in JS, the injected script, each with the kernel's
// 64 KB fault-around), an idle daemon uses a fraction. Dropped pages stay in the page cache and
// come back on a minor fault when touched, so RSS shows what the daemon used in the last second
// instead of everything it ever touched. A check costs ~0.6 ms (one pass over /proc/self/maps and
// the executable's pagemap) plus the minor faults of the pages used again.
//
// Start-up: an app that says when its start-up begins and ends (`process.emit('nodeagent:starting')`
// at once, `process.emit('nodeagent:started')` when it is up; the kubelet, around its "kubelet
// started") gets no check at all in between, and its checks (and the count of them the cache
// evictions follow) start over at its end: a start-up has nothing to give back yet, and the
// first check's page release and cache eviction, 1 s after exec, otherwise landed inside any start
// slower than that (under load), dropping pages the rest of the start faulted back in. A start-up
// that never says it ended is held at most START_UP_HOLD_MAX_MS.
//
// An app ends a burst with `process.emit('nodeagent:burst-ended')` (kube-proxy after each
// sync); the check then runs at once, so the memory is given back before anyone reads it. A
// burst that left the used heap less than the slack above the last release (a one-endpoint
// sync) releases nothing at once: its check is a quiet one, and the next quiet release trims
// malloc for it (SMALL_BURST_BYTES).
// While an app's bursts come less than BURST_QUIET_MS apart, only their checks collect, and a
// quiet release (pages, malloc) comes every BURST_RELEASE_MS instead of every QUIET_RELEASE_MS:
// the next burst faults back what it released (see there). A collection stops the main thread
// (0.14-1.2 s of kube-proxy's 170 MB heap at 250k endpoints), and right after a sync it falls in
// the quiet time minSyncPeriod keeps anyway, where one started by the timer landed 450-860 ms
// after a sync's end and delayed the next endpoint change by as much (issue #54). Once the
// bursts stop, the timer collects again (else the last burst's garbage waited for the next
// periodic sync: +23 MB of kube-proxy's steady RSS at 250k endpoints).
// An app that let go of much of its state says so with `process.emit('nodeagent:memory-freed')`
// (the kubelet when the cleanups of deleted pods are done): a collection follows whatever the
// heap's growth, since what was freed (per-pod state, the delete's garbage: 8-15 MB at 110 pods)
// is often below the 16 MB slack and would wait for the 30 s check. It waits until no such event
// came for FREED_SETTLE_MS, so a run of deletes (one event per emptied cleanup queue) gets one
// collection at its end, not one each. What the last cleanup's callers still hold then (5 MB of
// the pods' state at 110 pods, measured with the collection in the event's own tick) is garbage
// by the next periodic collection, which is therefore the memory-reducing one too: it also
// compacts the old generation the pods left fragmented and drops the bytecode of the delete path.
// Measured after deleting 110 pods: anonymous memory 41.1-41.4 MiB before that second collection,
// 40.1 from 30 s after it. With it, the first one can come 1 s after the event instead of 3 s:
// anonymous memory fell to 38 MiB 0.8 s after the API objects were gone instead of 4.4 s.

'use strict';

const v8 = require('node:v8');

const CHECK_INTERVAL_MS = 1000;
/** Growth over the last live size, or committed memory over the used, below which a collection is not worth its pause. */
const SLACK_BYTES = 16 * 1024 * 1024;
/** Heap growth between two checks below which start-up counts as over. */
const QUIET_BYTES = 1024 * 1024;
/** Minimum time between two collections. */
const MIN_GAP_MS = 10_000;
/**
 * Longest time without a collection: memory a daemon holds for a while after a burst and then
 * lets go (kube-proxy at 10k Services keeps about 330 MB for some 20 s after a full sync) is
 * only garbage once released, and nothing allocates afterwards to make V8 notice.
 */
const MAX_GAP_MS = 30_000;
/**
 * What a periodic (MAX_GAP_MS) collection must give back to keep its period: one that freed
 * less doubles the period, up to MAX_IDLE_GAP_MS; any other collection, or one that freed the
 * slack, brings it back to MAX_GAP_MS. Measured on the kubelet executable idle on containerd
 * (issue #47): each 30 s collection took 55-63 ms of the main thread plus V8's marking threads
 * and gave back 0.9-1.1 MB of a 23 MB heap, a fifth of the idle process's CPU.
 */
const PERIODIC_YIELD_BYTES = 4 * 1024 * 1024;
/** The longest the period of the plain full collection grows to while they give back little. */
const MAX_IDLE_GAP_MS = 240_000;
/** How long after an app's last burst-ended event the timer's checks leave collections to those events. */
const BURST_QUIET_MS = 5000;
/**
 * Heap growth since the last release below which a burst's end counts as a quiet check (its
 * release waits for QUIET_RELEASE_MS and then trims malloc too; a collection it is due still
 * runs). kube-proxy ends a
 * burst after every sync, and at 5,000 Services × 50 endpoints the malloc_trim, page release and
 * the refaults of the pages dropped cost about 2 ms of CPU per one-endpoint change (perf over 50
 * changes, issue #54: 4% of its CPU in madvise and the pagemap pass, 5% in page faults), in
 * the next change's path too, for little to give back: such a sync grows the used heap by a
 * few hundred KB. The slack, not less: `used` includes the young generation's objects until its
 * next scavenge (up to the 8 MB semi-space), and a full sync leaves tens of MB or more.
 */
const SMALL_BURST_BYTES = SLACK_BYTES;
/** What an app emits on `process` when a burst of work ended. */
const BURST_ENDED_EVENT = 'nodeagent:burst-ended';
/** What an app emits on `process` when it let go of much of its state: collect once it settled. */
const MEMORY_FREED_EVENT = 'nodeagent:memory-freed';
/** What an app emits on `process` when its start-up begins: no checks until STARTED_EVENT. */
const STARTING_EVENT = 'nodeagent:starting';
/** What an app emits on `process` when its start-up is over: the checks start (again) from then. */
const STARTED_EVENT = 'nodeagent:started';
/** The longest the checks wait for STARTED_EVENT after STARTING_EVENT. */
const START_UP_HOLD_MAX_MS = 60_000;
/** Quiet time after the last memory-freed event (and after the last collection) before its collection. */
const FREED_SETTLE_MS = 1000;

/**
 * How often a quiet check (no collection, no burst's end, no trims owed after a collection)
 * releases pages. Every release costs more than its own pass over the pagemap: the pages the
 * daemon goes on using come back by minor faults, and each malloc_trim hands back pages the next
 * allocations fault in again. Measured on the kubelet executable idle on containerd (issue #47,
 * apps/kubelet/bench/cpu.bench.ts): released every second, 2.0 CPU-seconds a minute at 47 MiB
 * RSS; never (no trim at all), 0.86 at 92 MiB; every 10 s, 1.30 at 53 MiB; every 30 s, 1.24 at
 * 57 MiB. An idle daemon's periodic work touches the same pages every 10 s, so 10 s keeps nearly
 * all of the memory the release saves for a third of what releasing every second cost.
 */
const QUIET_RELEASE_MS = 10_000;

/**
 * How often a quiet release runs while an app's bursts come less than BURST_QUIET_MS apart
 * (kube-proxy's endpoint changes): the change after a release faults back the executable's pages
 * and the malloc memory its path uses (300-700 minor faults at 5,000 Services × 50 endpoints),
 * and such changes were the slow ones (issue #54: over 1,000 changes, 143 followed a release, and
 * 20 of the 33 over 4 ms were among them; held, 17 were over 4 ms, apps/kube-proxy/SCALE.md,
 * session 46). The release the bursts held back runs once they stop
 * (the first quiet check BURST_QUIET_MS after the last), or after this long if they never do.
 */
const BURST_RELEASE_MS = 60_000;

/** Checks after a collection that call malloc_trim again (when not trimming at every check). */
const MALLOC_RETRIMS = 2;

/**
 * The timer's checks (counted from 1) after whose page release the executable's page cache is evicted
 * (page-release.c, evictExecutableCache): the first, and 30 s and 60 s later for a file that was
 * not yet written back at the first (an executable installed just before it started), which the
 * eviction leaves alone: the kernel writes a file back 30-35 s after it was written
 * (vm.dirty_expire_centisecs, vm.dirty_writeback_centisecs), so at the 30th check when it was
 * written a few seconds before the start, at the 60th otherwise. A call that finds the file in
 * small folios costs a sample of its resident pages. One that falls due while an app's bursts
 * come runs once they stop (see evictionDue in startHeapTrim).
 */
const EVICT_CACHE_AT_CHECKS = Object.freeze([1, 30, 60]);

/** Without the addon (the apps run by `node`, tests), releasing pages is a no-op. */
const NO_RELEASE = Object.freeze({
  releaseExecutablePages: () => 0,
  releaseMallocFree: () => false,
  evictExecutableCache: () => 0,
});

/**
 * V8's gc extension options: a 'last-resort' collection is the memory-reducing one
 * (CollectAllAvailableGarbage): it also shrinks the young generation and releases freed pages,
 * where a plain gc() leaves the heap committed at its peak size. It also discards the bytecode
 * and type feedback of every function not on the stack (V8 force-flushes code in a last-resort
 * collection), so everything the process runs afterwards is parsed, compiled and optimised
 * again: right after a burst or a start-up that gives back the burst's code too, but as the
 * periodic collection of an idle daemon it made the kubelet recompile its periodic work every
 * 30 s (about one optimising compile a second, the compilers' pages back in RSS).
 */
const REDUCE_MEMORY = { type: 'major', execution: 'sync', flavor: 'last-resort' };
/** A full collection that keeps compiled code (V8 still flushes bytecode unused for several collections). */
const FULL = { type: 'major', execution: 'sync', flavor: 'regular' };

/**
 * @typedef {{
 *   live: number, last: number, collectedAt: number | undefined, trailing: boolean,
 *   freedAt?: number, reduceNext?: boolean, retrims?: number, releasedAt?: number,
 *   releasedUsed?: number, mallocOwed?: boolean, periodMs?: number
 * }} HeapTrimState
 *   collectedAt undefined: no collection yet (start-up). freedAt: the last memory-freed event not
 *   yet followed by a collection. reduceNext: the next MAX_GAP_MS collection is the
 *   memory-reducing one (the collection after freed state, see collectionFor). retrims: checks
 *   left that call malloc_trim after a collection. releasedAt: when pages were last released;
 *   releasedUsed: the used heap then (after the collection, when one ran). mallocOwed: a small
 *   burst ended since: the next release trims malloc too.
 *   periodMs: the gap after which a collection runs whatever the growth (MAX_GAP_MS, longer
 *   while those collections give back little: see PERIODIC_YIELD_BYTES).
 */

/**
 * @typedef {{ used: number, committed: number }} HeapReading
 *   used: V8's used heap (used_heap_size); committed: what V8 holds for it (total_heap_size).
 */

/**
 * Watches V8's own collections from now on, for the start-up's plain collection (startHeapTrim's
 * `plainStartUpCollection`): returns a function that stops the watch (first call only) and gives
 * the used heap right after the last mark-compact V8 ran, or undefined when it ran none. A start
 * (the kubelet's: V8's initial old-generation limit is 33 MB, its incremental marking starts at
 * 25 MB) often ends with V8's own mark-compact done a second before the trim's, which then found
 * only the little garbage made since. GCProfiler records each collection's heap as V8's own GC
 * callbacks see it; it is stopped at the trim's first collection of any kind, so it costs nothing
 * afterwards.
 */
function watchMarkCompacts() {
  const profiler = new v8.GCProfiler();
  profiler.start();
  let stopped = false;
  return () => {
    if (stopped) return undefined;
    stopped = true;
    const last = profiler.stop().statistics.findLast((s) => s.gcType === 'MarkSweepCompact');
    return last?.afterGC.heapStatistics.usedHeapSize;
  };
}

/** V8's heap as the checks read it. */
function readV8Heap() {
  const stats = v8.getHeapStatistics();
  return { used: stats.used_heap_size, committed: stats.total_heap_size };
}

/**
 * The state before the first check; `used` is the heap at start, `startUpCollection` the
 * collection that ends the start-up (see startHeapTrim's `plainStartUpCollection`).
 */
function initialState(used, startUpCollection = REDUCE_MEMORY) {
  return {
    live: used,
    last: used,
    collectedAt: undefined,
    trailing: false,
    freedAt: undefined,
    reduceNext: false,
    retrims: 0,
    startUpCollection,
  };
}

/**
 * The collection this check runs, or undefined for none: the memory-reducing one when there is
 * something to give back (start-up, a burst, freed state, committed memory beyond the used), a
 * plain full one when only MAX_GAP_MS has passed.
 */
function collectionFor(state, { used, committed }, live, now, burstEnded) {
  if (state.collectedAt === undefined) {
    return burstEnded || used - state.last < QUIET_BYTES
      ? (state.startUpCollection ?? REDUCE_MEMORY)
      : undefined;
  }
  const since = now - state.collectedAt;
  if (state.freedAt !== undefined && now - state.freedAt >= FREED_SETTLE_MS && since >= FREED_SETTLE_MS) {
    return REDUCE_MEMORY;
  }
  if (since < MIN_GAP_MS) return undefined;
  if (state.trailing || used >= live + SLACK_BYTES || committed >= used + SLACK_BYTES) return REDUCE_MEMORY;
  if (since < (state.periodMs ?? MAX_GAP_MS)) return undefined;
  return state.reduceNext ? REDUCE_MEMORY : FULL;
}

/**
 * The period after `collection` (which took the used heap from `used` to `after`): doubled
 * after a periodic one that gave back less than PERIODIC_YIELD_BYTES, kept after one that gave
 * back more but less than the slack, MAX_GAP_MS after any other.
 */
function periodAfter(state, collection, used, after) {
  const period = state.periodMs ?? MAX_GAP_MS;
  if (collection !== FULL || used - after >= SLACK_BYTES) return MAX_GAP_MS;
  return used - after < PERIODIC_YIELD_BYTES ? Math.min(2 * period, MAX_IDLE_GAP_MS) : period;
}

/**
 * Whether a burst's end releases at once: nothing was released yet, or the used heap is at
 * least SMALL_BURST_BYTES above what it was at the last release.
 */
function grewSinceRelease(state, used) {
  return state.releasedUsed === undefined || used - state.releasedUsed >= SMALL_BURST_BYTES;
}

/**
 * One check: returns the new state. Exported for tests; `readHeap`, `gc`, `now` and `release`
 * are injected (`gc` undefined: no collections, only the page release). A collection that lands
 * in the middle of a burst (the heap grew by more than the slack since the previous check) sees
 * the burst's working set as live; `trailing` then asks for one more collection at the next
 * opportunity, whatever the growth, so the burst's end is collected too. malloc_trim runs after
 * a collection, at the MALLOC_RETRIMS checks after it and at a burst's end, or with
 * `trimEveryCheck` at every check. `startUpMarkCompact` (see watchMarkCompacts), asked once, at
 * the first collection (which stops the watch whatever that collection is): when that is the
 * start-up's plain collection, V8's own mark-compact during the start-up stands in for it when the
 * heap grew less than PERIODIC_YIELD_BYTES since (all that collection could give back, and below
 * what a periodic collection must yield to be worth it); the release runs as after it.
 * @param {HeapTrimState} state
 */
function check(
  state,
  readHeap,
  gc,
  now,
  release = NO_RELEASE,
  burstEnded = false,
  trimEveryCheck = false,
  quietReleaseMs = 0,
  startUpMarkCompact = undefined,
) {
  const heap = readHeap();
  const used = heap.used;
  const live = Math.min(state.live, used); // V8 collected on its own: follow the heap down
  const collection = gc ? collectionFor(state, heap, live, now, burstEnded) : undefined;
  if (!collection) {
    const retrims = state.retrims ?? 0;
    // A quiet check (no burst, no trims owed) releases only every quietReleaseMs: see
    // QUIET_RELEASE_MS. So does the end of a small burst (see SMALL_BURST_BYTES), whose
    // malloc_trim the next release owes (what the burst freed outside the heap).
    const burst = burstEnded && grewSinceRelease(state, used);
    const mallocOwed = (state.mallocOwed ?? false) || burstEnded;
    const due = burst || retrims > 0 || now - (state.releasedAt ?? -Infinity) >= quietReleaseMs;
    if (!due) return { ...state, live, last: used, mallocOwed };
    if (trimEveryCheck || mallocOwed || retrims > 0) release.releaseMallocFree();
    release.releaseExecutablePages();
    return {
      ...state,
      live,
      last: used,
      retrims: Math.max(0, retrims - 1),
      releasedAt: now,
      releasedUsed: used,
      mallocOwed: false,
    };
  }
  // The watch ends at the first collection whatever its kind (it records every collection of
  // V8's until read, scavenges too); only a plain one can be replaced by V8's plain mark-compact.
  const v8Live = state.collectedAt === undefined ? startUpMarkCompact?.() : undefined;
  const stoodIn = collection === FULL && v8Live !== undefined && used - v8Live < PERIODIC_YIELD_BYTES;
  if (!stoodIn) gc(collection);
  release.releaseMallocFree();
  release.releaseExecutablePages();
  const after = stoodIn ? v8Live : readHeap().used;
  return {
    live: after,
    last: stoodIn ? used : after,
    collectedAt: now,
    trailing: used - state.last > SLACK_BYTES,
    freedAt: undefined,
    reduceNext: state.freedAt !== undefined,
    retrims: MALLOC_RETRIMS,
    releasedAt: now,
    releasedUsed: after,
    mallocOwed: false,
    periodMs: periodAfter(state, collection, used, after),
  };
}

/**
 * Starts the checks (every `intervalMs`, and at once on the burst-ended and memory-freed events); returns a stop
 * function, or undefined when there is neither an exposed `gc` nor a page release to run.
 * Without `gc` (a plain `node` run) the checks only release pages. `mallocTrimEveryCheck`: see
 * "Why malloc_trim" above (the kubelet's executable, tools/sea/targets.mjs).
 * `plainStartUpCollection`: the collection that ends the start-up is a plain full one instead of
 * the memory-reducing one (V8's 'last-resort': two mark-compacts at least, the second of which
 * gave back 0.1 MB of the kubelet's used heap), skipped when V8's own mark-compact during the
 * start-up stands in for it (see check); the kubelet's executable, see targets.mjs.
 * `quietReleaseMs` / `burstReleaseMs`: how often a quiet release runs, and while bursts come less
 * than BURST_QUIET_MS apart (the longer of the two then). `watchGc` (tests): what watches V8's
 * mark-compacts, watchMarkCompacts by default.
 */
function startHeapTrim({
  gc = globalThis.gc,
  readHeap = readV8Heap,
  intervalMs = CHECK_INTERVAL_MS,
  release,
  now = Date.now,
  mallocTrimEveryCheck = false,
  quietReleaseMs = QUIET_RELEASE_MS,
  burstReleaseMs = BURST_RELEASE_MS,
  plainStartUpCollection = false,
  watchGc = watchMarkCompacts,
} = {}) {
  const collect = typeof gc === 'function' ? gc : undefined;
  if (!collect && !release) return undefined;
  const startUpCollection = plainStartUpCollection ? FULL : REDUCE_MEMORY;
  let state = initialState(readHeap().used, startUpCollection);
  /** Stops the watch of V8's mark-compacts and reads it: see watchMarkCompacts and check. */
  const startUpMarkCompact = plainStartUpCollection && collect ? watchGc() : undefined;
  /** When the app last said a burst ended: within BURST_QUIET_MS of it only those checks collect. */
  let lastBurstAt = -Infinity;
  const run = (burstEnded) => {
    const at = now();
    if (burstEnded) lastBurstAt = at;
    const bursting = at - lastBurstAt < BURST_QUIET_MS;
    const gcHere = burstEnded || !bursting ? collect : undefined;
    state = check(
      state,
      readHeap,
      gcHere,
      at,
      release,
      burstEnded,
      mallocTrimEveryCheck,
      bursting ? Math.max(quietReleaseMs, burstReleaseMs) : quietReleaseMs,
      startUpMarkCompact,
    );
  };
  // Counts the timer's checks only: the evictions are meant 1, 30 and 60 intervals after start,
  // however many checks a burst-ended event adds in between (kube-proxy, after every sync).
  let ticks = 0;
  /**
   * An eviction is due and waits for the app's bursts to stop (BURST_QUIET_MS since the last):
   * the work that follows an eviction reads the executable's pages back from the disk, and the
   * next endpoint change after one took 15-55 ms instead of 2 (issue #54: 3 of 3 runs of 100
   * changes at 5,000 × 50, the eviction at the 30th check or the 60th).
   */
  let evictionDue = false;
  const startTimer = () => {
    const timer = setInterval(() => {
      run(false);
      ticks += 1;
      if (EVICT_CACHE_AT_CHECKS.includes(ticks)) evictionDue = true;
      if (release && evictionDue && now() - lastBurstAt >= BURST_QUIET_MS) {
        evictionDue = false;
        release.evictExecutableCache();
      }
    }, intervalMs);
    timer.unref();
    return timer;
  };
  let timer = startTimer();
  /** Set while the app starts (see "Start-up" above): its timeout ends the hold if STARTED_EVENT never comes. */
  let hold;
  const onStarting = () => {
    if (hold || !timer) return;
    clearInterval(timer);
    timer = undefined;
    hold = setTimeout(onStarted, START_UP_HOLD_MAX_MS);
    hold.unref();
  };
  const onStarted = () => {
    if (!hold) return;
    clearTimeout(hold);
    hold = undefined;
    // As if the trim started now: the heap start-up left is the baseline of the first quiet check.
    state = initialState(readHeap().used, startUpCollection);
    ticks = 0;
    evictionDue = false;
    timer = startTimer();
  };
  const onBurstEnded = () => {
    if (!hold) run(true);
  };
  // The collection comes at the first check FREED_SETTLE_MS after the last such event.
  const onMemoryFreed = () => {
    state = { ...state, freedAt: now() };
  };
  process.on(BURST_ENDED_EVENT, onBurstEnded);
  process.on(MEMORY_FREED_EVENT, onMemoryFreed);
  process.on(STARTING_EVENT, onStarting);
  process.on(STARTED_EVENT, onStarted);
  return () => {
    startUpMarkCompact?.();
    clearInterval(timer);
    clearTimeout(hold);
    timer = undefined;
    hold = undefined;
    process.off(BURST_ENDED_EVENT, onBurstEnded);
    process.off(MEMORY_FREED_EVENT, onMemoryFreed);
    process.off(STARTING_EVENT, onStarting);
    process.off(STARTED_EVENT, onStarted);
  };
}

module.exports = {
  startHeapTrim,
  check,
  initialState,
  watchMarkCompacts,
  NO_RELEASE,
  BURST_ENDED_EVENT,
  MEMORY_FREED_EVENT,
  STARTING_EVENT,
  STARTED_EVENT,
  START_UP_HOLD_MAX_MS,
  FREED_SETTLE_MS,
  BURST_QUIET_MS,
  BURST_RELEASE_MS,
  MALLOC_RETRIMS,
  QUIET_RELEASE_MS,
  SMALL_BURST_BYTES,
  CHECK_INTERVAL_MS,
  SLACK_BYTES,
  QUIET_BYTES,
  MIN_GAP_MS,
  MAX_GAP_MS,
  MAX_IDLE_GAP_MS,
  PERIODIC_YIELD_BYTES,
  REDUCE_MEMORY,
  FULL,
  EVICT_CACHE_AT_CHECKS,
};
