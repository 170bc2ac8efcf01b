// A full GC when the heap has grown well above what the last collection left live, at most
// every 10 s; part of the single executables' entry (build.mjs), active when `gc` is exposed
// (`--expose-gc` is in the executables' execArgv).
//
// Why: V8 sizes the old generation for throughput. A kube-proxy full sync at 10k Services
// allocates hundreds of MB of short-lived rule text and decoded JSON; afterwards the daemon is
// nearly idle, allocates too little to trigger a major GC, and the heap stays at its peak
// (measured: 465 MB used, 134 MB of it live, still 30 s after the sync). Go's runtime, which
// upstream's memory numbers come from, bounds the heap by the live size (GOGC) and returns
// freed memory in the background. Here: every 5 s, if the used heap is at least 16 MB above the
// live size after the last collection and the last collection is 10 s old, collect (and once
// more 10 s later if that collection caught the burst mid-way), and in any case every 30 s. A check is
// one getHeapStatistics() call; a collection costs what V8's own major GC would: about 0.1 s at
// 10k Services (a 134 MB live heap), a few ms for an idle kubelet.
'use strict';

const v8 = require('node:v8');

const CHECK_INTERVAL_MS = 5000;
/** Growth over the last live size below which a collection is not worth its pause. */
const SLACK_BYTES = 16 * 1024 * 1024;
/** Minimum time between two collections. */
const MIN_GAP_MS = 10_000;
/**
 * Longest time without a collection: memory a daemon holds for a while after a burst and then
 * lets go (kube-proxy at 10k Services keeps about 330 MB for some 20 s after a full sync) is
 * only garbage once released, and nothing allocates afterwards to make V8 notice.
 */
const MAX_GAP_MS = 30_000;

/**
 * One check: returns the new state. Exported for tests; `heapUsed`, `gc` and `now` are injected.
 * A collection that lands in the middle of a burst (the heap grew by more than the slack since
 * the previous check) sees the burst's working set as live; `trailing` then asks for one more
 * collection at the next opportunity, whatever the growth, so the burst's end is collected too.
 * @param {{ live: number, last: number, collectedAt: number, trailing: boolean }} state
 */
function check(state, heapUsed, gc, now) {
  const used = heapUsed();
  const live = Math.min(state.live, used); // V8 collected on its own: follow the heap down
  const since = now - state.collectedAt;
  const wanted = state.trailing || used >= live + SLACK_BYTES || since >= MAX_GAP_MS;
  if (since < MIN_GAP_MS || !wanted) return { ...state, live, last: used };
  gc(REDUCE_MEMORY);
  const after = heapUsed();
  return { live: after, last: after, collectedAt: now, trailing: used - state.last > SLACK_BYTES };
}

/**
 * V8's gc extension options: a 'last-resort' collection is the memory-reducing one
 * (CollectAllAvailableGarbage): it also shrinks the young generation and releases freed pages,
 * where a plain gc() leaves the heap committed at its peak size.
 */
const REDUCE_MEMORY = { type: 'major', execution: 'sync', flavor: 'last-resort' };

/** Starts the checks; returns a stop function, or undefined when `gc` is not exposed. */
function startHeapTrim(
  gc = globalThis.gc,
  heapUsed = () => v8.getHeapStatistics().used_heap_size,
  intervalMs = CHECK_INTERVAL_MS,
) {
  if (typeof gc !== 'function') return undefined;
  const used = heapUsed();
  let state = { live: used, last: used, collectedAt: Date.now(), trailing: false };
  const timer = setInterval(() => {
    state = check(state, heapUsed, gc, Date.now());
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { startHeapTrim, check, CHECK_INTERVAL_MS, SLACK_BYTES, MIN_GAP_MS, MAX_GAP_MS };
