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
// live size after the last collection and the last collection is 10 s old, collect. A check is
// one getHeapStatistics() call; a collection costs what V8's own major GC would (about 0.1-0.3 s
// at 10k Services), at most once per 10 s and only after 16 MB of growth.
'use strict';

const v8 = require('node:v8');

const CHECK_INTERVAL_MS = 5000;
/** Growth over the last live size below which a collection is not worth its pause. */
const SLACK_BYTES = 16 * 1024 * 1024;
/** Minimum time between two collections. */
const MIN_GAP_MS = 10_000;

/**
 * One check: returns the new state. Exported for tests; `heapUsed`, `gc` and `now` are injected.
 * @param {{ live: number, collectedAt: number }} state
 */
function check(state, heapUsed, gc, now) {
  const used = heapUsed();
  // V8 collected on its own: follow the heap down.
  if (used < state.live) return { live: used, collectedAt: state.collectedAt };
  if (used < state.live + SLACK_BYTES || now - state.collectedAt < MIN_GAP_MS) return state;
  gc();
  return { live: heapUsed(), collectedAt: now };
}

/** Starts the checks; returns a stop function, or undefined when `gc` is not exposed. */
function startHeapTrim(
  gc = globalThis.gc,
  heapUsed = () => v8.getHeapStatistics().used_heap_size,
  intervalMs = CHECK_INTERVAL_MS,
) {
  if (typeof gc !== 'function') return undefined;
  let state = { live: heapUsed(), collectedAt: Date.now() };
  const timer = setInterval(() => {
    state = check(state, heapUsed, gc, Date.now());
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { startHeapTrim, check, CHECK_INTERVAL_MS, SLACK_BYTES, MIN_GAP_MS };
