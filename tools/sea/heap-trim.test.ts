import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import type * as HeapTrim from './heap-trim.cjs';

const {
  check,
  initialState,
  startHeapTrim,
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
  SLACK_BYTES,
  SMALL_BURST_BYTES,
  QUIET_BYTES,
  MIN_GAP_MS,
  MAX_GAP_MS,
  MAX_IDLE_GAP_MS,
  PERIODIC_YIELD_BYTES,
  REDUCE_MEMORY,
  FULL,
  EVICT_CACHE_AT_CHECKS,
  CHECK_INTERVAL_MS,
} = createRequire(import.meta.url)('./heap-trim.cjs') as typeof HeapTrim;

const MB = 1024 * 1024;
/** A reading whose committed size is the used size (V8 holds nothing beyond it). */
const used = (bytes: number): HeapTrim.HeapReading => ({ used: bytes, committed: bytes });
/** Time between two simulated checks (the policy does not depend on the timer's interval). */
const STEP_MS = 5000;

/** Runs one check per reading, STEP_MS apart; returns the checks at which gc ran and the last state. */
function simulate(readings: number[], liveAfterGc: number) {
  let heap = readings[0] as number;
  let state: HeapTrim.HeapTrimState = { live: heap, last: heap, collectedAt: 0, trailing: false };
  const collections: number[] = [];
  for (const [i, reading] of readings.slice(1).entries()) {
    heap = reading;
    const at = (i + 1) * STEP_MS;
    state = check(
      state,
      () => used(heap),
      () => {
        collections.push(i + 1);
        heap = liveAfterGc;
      },
      at,
    );
  }
  return { collections, state };
}

/** A page release that records its calls ('pages', 'malloc') in `calls`. */
function recordingRelease(calls: string[]) {
  return {
    releaseExecutablePages: () => {
      calls.push('pages');
      return 0;
    },
    releaseMallocFree: () => {
      calls.push('malloc');
      return true;
    },
    evictExecutableCache: () => 0,
  };
}

/** Starts the trim with its interval timer driven by hand: each `tick()` is one check. */
function startByHand(options: Parameters<typeof startHeapTrim>[0]) {
  let tick: (() => void) | undefined;
  const realSetInterval = globalThis.setInterval;
  globalThis.setInterval = ((fn: () => void) => {
    tick = fn;
    return { unref() {} };
  }) as unknown as typeof setInterval;
  try {
    const stop = startHeapTrim(options);
    return { tick: () => tick?.(), stop: () => stop?.() };
  } finally {
    globalThis.setInterval = realSetInterval;
  }
}

/**
 * startByHand without `gc`, on a 30 MB heap, at the time `clock.now` says; `releasedAt` gets that
 * time at each page release.
 */
function startRecordingReleases(options: Parameters<typeof startHeapTrim>[0] = {}) {
  const clock = { now: 0 };
  const releasedAt: number[] = [];
  const trim = startByHand({
    gc: null,
    readHeap: () => used(30 * MB),
    release: { ...NO_RELEASE, releaseExecutablePages: () => releasedAt.push(clock.now) },
    now: () => clock.now,
    ...options,
  });
  return { ...trim, clock, releasedAt };
}

/** A timer handle the hand-driven timers give out. */
interface HandTimer {
  fn: () => void;
  ms: number;
  unref(): HandTimer;
}

/**
 * setInterval/setTimeout (and their clears) replaced until `restore()`: `tick()` runs each live
 * interval's callback once, `expire()` each live timeout's.
 */
function handTimers() {
  const real = { setInterval, clearInterval, setTimeout, clearTimeout };
  const intervals = new Set<HandTimer>();
  const timeouts = new Set<HandTimer>();
  const make = (set: Set<HandTimer>) => (fn: () => void, ms: number) => {
    const timer: HandTimer = { fn, ms, unref: () => timer };
    set.add(timer);
    return timer;
  };
  Object.assign(globalThis, {
    setInterval: make(intervals),
    clearInterval: (timer: HandTimer) => intervals.delete(timer),
    setTimeout: make(timeouts),
    clearTimeout: (timer: HandTimer) => timeouts.delete(timer),
  });
  return {
    intervals,
    timeouts,
    tick: () => {
      for (const timer of [...intervals]) timer.fn();
    },
    expire: () => {
      for (const timer of [...timeouts]) {
        timeouts.delete(timer);
        timer.fn();
      }
    },
    restore: () => Object.assign(globalThis, real),
  };
}

/** A recording page release that also records the cache eviction ('evict'). */
function evictingRelease(calls: string[]) {
  return {
    ...recordingRelease(calls),
    evictExecutableCache: () => {
      calls.push('evict');
      return 0;
    },
  };
}

const emit = (event: string) => (process as NodeJS.EventEmitter).emit(event);

describe('heap trim', () => {
  it('collects when the heap grew well above the live size, then not again before the gap', () => {
    // 30 MB idle, a sync grows it to 400 MB; afterwards 120 MB are live.
    const { collections, state } = simulate([30 * MB, 200 * MB, 400 * MB, 120 * MB, 121 * MB], 120 * MB);
    // Check 2 collected while the heap was still growing fast: one trailing collection at check 4.
    expect(collections).toEqual([2, 4]);
    expect(state.live).toBe(120 * MB);
    // Growth right after a collection waits for MIN_GAP_MS.
    const burst = simulate([30 * MB, 30 * MB, 200 * MB, 300 * MB, 400 * MB], 100 * MB);
    expect(burst.collections).toEqual([2, 2 + MIN_GAP_MS / STEP_MS]);
  });

  it('collects once more after a collection that caught a burst mid-way', () => {
    // The first collection (check 2) runs while the heap is still growing fast and finds 450 MB
    // live; the burst ends just above that, within the slack, so only the trailing collection
    // (check 4, MIN_GAP_MS later) brings the heap down to the 134 MB really live.
    let heap = 30 * MB;
    const readings = [30 * MB, 300 * MB, 455 * MB, 460 * MB, 460 * MB, 134 * MB, 134 * MB];
    let state: HeapTrim.HeapTrimState = { live: heap, last: heap, collectedAt: 0, trailing: false };
    const gcs: number[] = [];
    const afterGc = [450 * MB, 134 * MB];
    for (let i = 1; i < readings.length; i++) {
      heap = readings[i] as number;
      state = check(
        state,
        () => used(heap),
        () => {
          gcs.push(i);
          heap = afterGc[gcs.length - 1] as number;
        },
        i * STEP_MS,
      );
      if (gcs.at(-1) === i) readings[i + 1] = Math.max(heap, readings[i + 1] as number);
    }
    expect(gcs).toEqual([2, 4]);
    expect(state.live).toBe(134 * MB);
    expect(state.trailing).toBe(false);
  });

  it('runs the memory-reducing collection for what there is to give back, a plain full one when only MAX_GAP_MS passed', () => {
    const flavors: string[] = [];
    const gc = (options: HeapTrim.GcOptions) => flavors.push(options.flavor);
    let state = initialState(30 * MB);
    // Start-up: the first quiet check.
    state = check(state, () => used(30 * MB), gc, 1000);
    // Idle, growth below the slack: the periodic collection.
    state = check(state, () => used(31 * MB), gc, 1000 + MAX_GAP_MS);
    // A burst above the slack.
    state = check(state, () => used(31 * MB + SLACK_BYTES), gc, 1000 + MAX_GAP_MS + MIN_GAP_MS);
    expect(flavors).toEqual(['last-resort', 'regular', 'last-resort']);
    expect([REDUCE_MEMORY.flavor, FULL.flavor]).toEqual(['last-resort', 'regular']);
  });

  it('ends a start-up with the collection the state names: a plain full one when asked', () => {
    const flavors: string[] = [];
    const gc = (options: HeapTrim.GcOptions) => flavors.push(options.flavor);
    let state = initialState(30 * MB, FULL);
    state = check(state, () => used(30 * MB), gc, 1000);
    // A burst above the slack afterwards still gets the memory-reducing one.
    state = check(state, () => used(30 * MB + SLACK_BYTES), gc, 1000 + MIN_GAP_MS);
    expect(flavors).toEqual(['regular', 'last-resort']);
    expect(initialState(30 * MB).startUpCollection).toBe(REDUCE_MEMORY);
  });

  it("lets V8's own mark-compact during the start-up stand in for the plain start-up collection when the heap grew less than PERIODIC_YIELD_BYTES since", () => {
    const calls: string[] = [];
    const gc = (options: HeapTrim.GcOptions) => calls.push(options.flavor);
    let asked = 0;
    const v8Left = (bytes: number | undefined) => () => {
      asked += 1;
      return bytes;
    };
    const quietStart = (markCompact: () => number | undefined, startUp = FULL) =>
      check(
        initialState(30 * MB, startUp),
        () => used(30 * MB),
        gc,
        1000,
        recordingRelease(calls),
        false,
        false,
        0,
        markCompact,
      );
    // Grown by less than the yield since V8's: no collection, but the release as after one.
    let state = quietStart(v8Left(30 * MB - PERIODIC_YIELD_BYTES + 1));
    expect(calls).toEqual(['malloc', 'pages']);
    expect(state).toMatchObject({
      collectedAt: 1000,
      live: 30 * MB - PERIODIC_YIELD_BYTES + 1,
      last: 30 * MB,
    });
    expect(state.retrims).toBe(MALLOC_RETRIMS);
    // The start-up is over: the next check neither asks again nor collects before MIN_GAP_MS.
    state = check(state, () => used(30 * MB), gc, 2000, NO_RELEASE, false, false, 0, v8Left(0));
    expect([asked, calls.length]).toEqual([1, 2]);
    // Grown by the yield or more, or no mark-compact of V8's: the plain collection runs.
    calls.length = 0;
    quietStart(v8Left(30 * MB - PERIODIC_YIELD_BYTES));
    quietStart(v8Left(undefined));
    expect(calls).toEqual(['regular', 'malloc', 'pages', 'regular', 'malloc', 'pages']);
    // A first collection of another kind (the memory-reducing one) still ends the watch, which
    // records every collection until read, but V8's plain mark-compact does not stand in for it.
    calls.length = 0;
    asked = 0;
    state = quietStart(v8Left(30 * MB), REDUCE_MEMORY);
    expect([asked, calls]).toEqual([1, ['last-resort', 'malloc', 'pages']]);
    expect(state.live).toBe(30 * MB);
  });

  it("reads the used heap after V8's last mark-compact since the watch began, once", () => {
    // A bare gc(): Node 20's V8 (the tests') makes gc({ type: 'major' }) a scavenge.
    const gc = createRequire(import.meta.url)('./expose-gc.cjs').exposeGc() as () => void;
    const none = watchMarkCompacts();
    expect(none()).toBeUndefined();
    const read = watchMarkCompacts();
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const heldBefore = v8.getHeapStatistics().used_heap_size;
    garbage = undefined;
    gc();
    const after = v8.getHeapStatistics().used_heap_size;
    const left = read();
    expect(garbage).toBeUndefined();
    // The 200,000 objects (several MB) are gone in V8's own reading, which is the heap right after.
    expect(left).toBeLessThan(heldBefore - 2 * MB);
    expect(Math.abs((left as number) - after)).toBeLessThan(MB);
    expect(read()).toBeUndefined();
  });

  it('makes the periodic collection after a memory-freed one memory-reducing too, once', () => {
    const flavors: string[] = [];
    const gc = (options: HeapTrim.GcOptions) => flavors.push(options.flavor);
    let state: HeapTrim.HeapTrimState = {
      ...initialState(30 * MB),
      collectedAt: 0,
      freedAt: 1000,
    };
    let now = 1000 + FREED_SETTLE_MS;
    state = check(state, () => used(31 * MB), gc, now);
    expect(flavors).toEqual(['last-resort']);
    // What the last pods' work still held at that collection is garbage by the periodic one.
    now += MAX_GAP_MS - 1;
    state = check(state, () => used(31 * MB), gc, now);
    expect(flavors).toHaveLength(1);
    now += 1;
    state = check(state, () => used(31 * MB), gc, now);
    expect(flavors).toEqual(['last-resort', 'last-resort']);
    // Then the plain periodic one again.
    now += MAX_GAP_MS;
    state = check(state, () => used(31 * MB), gc, now);
    expect(flavors).toEqual(['last-resort', 'last-resort', 'regular']);
  });

  it('doubles the periodic gap, up to MAX_IDLE_GAP_MS, while periodic collections give back little; back to MAX_GAP_MS after one that frees the slack', () => {
    const heap = { used: 30 * MB };
    const gaps: number[] = [];
    let last = 0;
    let now = 0;
    let freeOnGc = MB;
    const gc = () => {
      gaps.push(now - last);
      last = now;
      heap.used -= freeOnGc;
    };
    let state: HeapTrim.HeapTrimState = { ...initialState(heap.used), collectedAt: 0 };
    const runFor = (ms: number) => {
      for (const end = now + ms; now < end; ) {
        now += 1000;
        heap.used += 1000; // idle: a little garbage a second, far below the slack
        state = check(state, () => used(heap.used), gc, now);
      }
    };
    // An idle process: each periodic collection gives back 1 MB.
    runFor(8 * MAX_IDLE_GAP_MS);
    expect(gaps.slice(0, 5)).toEqual([
      MAX_GAP_MS,
      2 * MAX_GAP_MS,
      4 * MAX_GAP_MS,
      MAX_IDLE_GAP_MS,
      MAX_IDLE_GAP_MS,
    ]);
    // Memory a daemon held and let go without allocating: the next periodic collection finds
    // the slack and the period is MAX_GAP_MS again.
    freeOnGc = SLACK_BYTES;
    gaps.length = 0;
    runFor(MAX_IDLE_GAP_MS + MAX_GAP_MS);
    expect(gaps.slice(0, 2)).toEqual([MAX_IDLE_GAP_MS, MAX_GAP_MS]);
    // One that gives back between PERIODIC_YIELD_BYTES and the slack keeps the period.
    freeOnGc = PERIODIC_YIELD_BYTES;
    gaps.length = 0;
    runFor(3 * MAX_GAP_MS);
    expect(gaps).toEqual([MAX_GAP_MS, MAX_GAP_MS, MAX_GAP_MS]);
  });

  it('brings the periodic gap back to MAX_GAP_MS after any other collection', () => {
    const flavors: string[] = [];
    const gc = (options: HeapTrim.GcOptions) => flavors.push(options.flavor);
    let state: HeapTrim.HeapTrimState = {
      ...initialState(30 * MB),
      collectedAt: 0,
      periodMs: MAX_IDLE_GAP_MS,
    };
    // A burst above the slack: the memory-reducing collection.
    state = check(state, () => used(30 * MB + SLACK_BYTES), gc, MIN_GAP_MS);
    expect(flavors).toEqual(['last-resort']);
    expect(state.periodMs).toBe(MAX_GAP_MS);
  });

  it('leaves growth below the slack alone until MAX_GAP_MS has passed', () => {
    const small = 30 * MB + SLACK_BYTES - MB;
    const checks = MAX_GAP_MS / STEP_MS;
    const readings = Array.from({ length: checks + 2 }, (_, i) => (i === 0 ? 30 * MB : small));
    // Memory held after a burst and released later is only found by the periodic collection.
    expect(simulate(readings, 25 * MB).collections).toEqual([checks]);
  });

  it('collects when V8 keeps the slack or more committed beyond the used heap', () => {
    // The kubelet after deleting 110 pods: 28 MB used, little above the last live size, but the
    // young generation the delete grew keeps 49 MB committed.
    const gcs: number[] = [];
    let reading: HeapTrim.HeapReading = { used: 28 * MB, committed: 28 * MB + SLACK_BYTES - 1 };
    let state: HeapTrim.HeapTrimState = { live: 27 * MB, last: 27 * MB, collectedAt: 0, trailing: false };
    const gc = () => {
      gcs.push(reading.committed);
      reading = { used: 27 * MB, committed: 28 * MB };
    };
    // Just below the slack: left alone.
    state = check(state, () => reading, gc, MIN_GAP_MS);
    expect(gcs).toEqual([]);
    reading = { used: 28 * MB, committed: 28 * MB + SLACK_BYTES };
    // At the slack, but too soon after the last collection: left alone.
    state = check(state, () => reading, gc, MIN_GAP_MS - 1);
    expect(gcs).toEqual([]);
    state = check(state, () => reading, gc, MIN_GAP_MS + 1);
    expect(gcs).toEqual([28 * MB + SLACK_BYTES]);
    // Collected: committed is back near the used size, so the next checks leave it alone.
    state = check(state, () => reading, gc, 3 * MIN_GAP_MS);
    expect(gcs).toHaveLength(1);
    expect(state.live).toBe(27 * MB);
  });

  it('follows the heap down when V8 collected on its own', () => {
    const { collections, state } = simulate([300 * MB, 300 * MB, 100 * MB, 100 * MB], 0);
    expect(collections).toEqual([]);
    expect(state.live).toBe(100 * MB);
  });

  it('collects for the first time once start-up is over: a quiet check or the end of a burst', () => {
    const gcs: string[] = [];
    let heap = 5 * MB;
    let state = initialState(heap);
    // Start-up still growing: no collection.
    heap = 14 * MB;
    state = check(
      state,
      () => used(heap),
      () => gcs.push('growing'),
      1000,
    );
    expect(gcs).toEqual([]);
    // Grew by less than QUIET_BYTES since the last check: start-up is over.
    heap = 14 * MB + QUIET_BYTES - 1;
    state = check(
      state,
      () => used(heap),
      () => gcs.push('quiet'),
      2000,
    );
    expect(gcs).toEqual(['quiet']);
    expect(state.collectedAt).toBe(2000);
    // A burst that ends during start-up (kube-proxy's first sync) collects at once, growing or not.
    let other = initialState(5 * MB);
    other = check(
      other,
      () => used(40 * MB),
      () => gcs.push('burst'),
      800,
      undefined,
      true,
    );
    expect(gcs).toEqual(['quiet', 'burst']);
    // After the first collection the usual rules hold: a burst's end does not skip MIN_GAP_MS.
    heap = 60 * MB;
    other = check(
      other,
      () => used(heap),
      () => gcs.push('too soon'),
      800 + MIN_GAP_MS - 1,
      undefined,
      true,
    );
    expect(gcs).toEqual(['quiet', 'burst']);
  });

  it('releases file pages at every check, and malloc memory after a collection (and the next checks) or a burst that grew the heap', () => {
    const calls: string[] = [];
    const release = recordingRelease(calls);
    const gc = () => calls.push('gc');
    let state: HeapTrim.HeapTrimState = { live: 10 * MB, last: 10 * MB, collectedAt: 0, trailing: false };
    state = check(state, () => used(10 * MB), gc, 1000, release);
    expect(calls).toEqual(['pages']);
    // A burst's end with the heap less than SMALL_BURST_BYTES above the last release: a quiet
    // check that owes the burst a malloc trim (quietReleaseMs is 0 here: due at once).
    state = check(state, () => used(10 * MB), gc, 2000, release, true);
    expect(calls).toEqual(['pages', 'malloc', 'pages']);
    calls.length = 0;
    state = check(state, () => used(10 * MB + SMALL_BURST_BYTES), gc, 3000, release, true);
    expect(calls).toEqual(['malloc', 'pages']);
    calls.length = 0;
    state = check(state, () => used(10 * MB + SLACK_BYTES), gc, MIN_GAP_MS, release);
    expect(calls).toEqual(['gc', 'malloc', 'pages']);
    // What the collection freed outside the heap reaches malloc later: the next checks trim again.
    expect(MALLOC_RETRIMS).toBeGreaterThan(0);
    for (let i = 1; i <= MALLOC_RETRIMS; i++) {
      calls.length = 0;
      state = check(state, () => used(10 * MB), gc, MIN_GAP_MS + i * 1000, release);
      expect(calls).toEqual(['malloc', 'pages']);
    }
    calls.length = 0;
    state = check(state, () => used(10 * MB), gc, MIN_GAP_MS + (MALLOC_RETRIMS + 1) * 1000, release);
    expect(calls).toEqual(['pages']);
    // No gc exposed: the pages are still released.
    calls.length = 0;
    check(state, () => used(100 * MB), undefined, 10 * MIN_GAP_MS, release);
    expect(calls).toEqual(['pages']);
  });

  it('with trimEveryCheck, releases malloc memory at every check, quiet ones too', () => {
    const calls: string[] = [];
    const release = recordingRelease(calls);
    const gc = () => calls.push('gc');
    let state: HeapTrim.HeapTrimState = { live: 10 * MB, last: 10 * MB, collectedAt: 0, trailing: false };
    // Long after any collection or burst: a heap a burst fragmented has free pages the daemon's
    // allocations keep touching again.
    for (let t = 5 * MIN_GAP_MS; t < 5 * MIN_GAP_MS + 5000; t += 1000) {
      calls.length = 0;
      state = check({ ...state, collectedAt: t - 1000 }, () => used(10 * MB), gc, t, release, false, true);
      expect(calls).toEqual(['malloc', 'pages']);
    }
    expect(state.retrims).toBe(0);
  });

  it('releases at a quiet check only every quietReleaseMs; after a collection, a burst or with trims owed at once', () => {
    const calls: string[] = [];
    const release = recordingRelease(calls);
    const gc = () => calls.push('gc');
    const quiet = 30_000;
    const t0 = 10 * MIN_GAP_MS;
    // Quiet checks without gc (no collection can come in between).
    let state: HeapTrim.HeapTrimState = {
      live: 10 * MB,
      last: 10 * MB,
      collectedAt: t0 - 1,
      trailing: false,
    };
    state = check(state, () => used(10 * MB), undefined, t0, release, false, true, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
    calls.length = 0;
    state = check(state, () => used(10 * MB), undefined, t0 + 1000, release, false, true, quiet);
    state = check(state, () => used(10 * MB), undefined, t0 + quiet - 1, release, false, true, quiet);
    expect(calls).toEqual([]);
    state = check(state, () => used(10 * MB), undefined, t0 + quiet, release, false, true, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
    // A burst's end that left the heap SMALL_BURST_BYTES above the last release releases
    // whatever the interval; a smaller one waits like a quiet check (kube-proxy's one-endpoint syncs).
    calls.length = 0;
    const grew = () => used(10 * MB + SMALL_BURST_BYTES);
    state = check(state, grew, undefined, t0 + quiet + 1000, release, true, true, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
    const small = () => used(10 * MB + 2 * SMALL_BURST_BYTES - 1);
    state = check(state, small, undefined, t0 + quiet + 1500, release, true, true, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
    // So does a collection, and the checks that owe a trim after it.
    calls.length = 0;
    const grown = t0 + quiet + 2000;
    state = check(
      { ...state, collectedAt: grown - MIN_GAP_MS },
      () => used(10 * MB + SLACK_BYTES),
      gc,
      grown,
      release,
      false,
      true,
      quiet,
    );
    expect(calls).toEqual(['gc', 'malloc', 'pages']);
    calls.length = 0;
    state = check(state, () => used(10 * MB), gc, grown + 1000, release, false, true, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
  });

  it("leaves a small burst's release to the next quiet one, which trims malloc for it once", () => {
    const calls: string[] = [];
    const release = recordingRelease(calls);
    const quiet = 10_000;
    const t0 = 10 * MIN_GAP_MS;
    let state: HeapTrim.HeapTrimState = {
      live: 10 * MB,
      last: 10 * MB,
      collectedAt: t0 - 1,
      trailing: false,
    };
    state = check(state, () => used(10 * MB), undefined, t0, release, false, false, quiet);
    expect(calls).toEqual(['pages']);
    // One-endpoint syncs: each end leaves the heap less than SMALL_BURST_BYTES above the release.
    calls.length = 0;
    const small = () => used(10 * MB + SMALL_BURST_BYTES - 1);
    for (let t = t0 + 1000; t < t0 + quiet; t += 1000)
      state = check(state, small, undefined, t, release, true, false, quiet);
    expect(calls).toEqual([]);
    state = check(state, () => used(10 * MB), undefined, t0 + quiet, release, false, false, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
    calls.length = 0;
    state = check(state, () => used(10 * MB), undefined, t0 + 2 * quiet, release, false, false, quiet);
    expect(calls).toEqual(['pages']);
    // A burst that grew the heap by SMALL_BURST_BYTES releases at once.
    calls.length = 0;
    const grew = () => used(10 * MB + SMALL_BURST_BYTES);
    check(state, grew, undefined, t0 + 2 * quiet + 1000, release, true, false, quiet);
    expect(calls).toEqual(['malloc', 'pages']);
  });

  it('startHeapTrim releases at quiet checks every QUIET_RELEASE_MS by default', () => {
    expect(QUIET_RELEASE_MS).toBeGreaterThan(1000);
    const calls: string[] = [];
    let now = 0;
    const { tick, stop } = startByHand({ gc: null, release: recordingRelease(calls), now: () => now });
    for (; now <= QUIET_RELEASE_MS; now += 1000) tick();
    stop();
    // At the first check, then once QUIET_RELEASE_MS had passed.
    expect(calls).toEqual(['pages', 'pages']);
  });

  it('passes mallocTrimEveryCheck from startHeapTrim to its checks', () => {
    for (const everyCheck of [false, true]) {
      const calls: string[] = [];
      const { tick, stop } = startByHand({
        gc: null,
        release: recordingRelease(calls),
        mallocTrimEveryCheck: everyCheck,
        quietReleaseMs: 0,
        burstReleaseMs: 0,
      });
      tick();
      tick();
      stop();
      expect(calls).toEqual(everyCheck ? ['malloc', 'pages', 'malloc', 'pages'] : ['pages', 'pages']);
    }
  });

  it("evicts the executable's page cache after the page release of the timer's first check and again at its 30th and 60th", () => {
    const calls: string[] = [];
    const { tick, stop } = startByHand({
      gc: null,
      quietReleaseMs: 0,
      burstReleaseMs: 0,
      release: evictingRelease(calls),
    });
    const evictedAt: number[] = [];
    for (let i = 1; i <= 90; i++) {
      calls.length = 0;
      tick();
      if (calls.includes('evict')) {
        expect(calls).toEqual(['pages', 'evict']);
        evictedAt.push(i);
      }
    }
    stop();
    expect(evictedAt).toEqual([...EVICT_CACHE_AT_CHECKS]);
    expect(evictedAt).toEqual([1, 30, 60]);
  });

  it('holds an eviction that falls due while the bursts come until they stop; their checks do not count', () => {
    const calls: string[] = [];
    const clock = { now: 0 };
    const { tick, stop } = startByHand({
      gc: null,
      quietReleaseMs: 0,
      burstReleaseMs: 0,
      now: () => clock.now,
      release: evictingRelease(calls),
    });
    const burst = () => (process as NodeJS.EventEmitter).emit(BURST_ENDED_EVENT);
    // Checks a burst's end runs do not count: the evictions follow the timer.
    for (let i = 0; i < 40; i++) burst();
    expect(calls).not.toContain('evict');
    const evictedAt: number[] = [];
    for (let i = 1; i <= 90; i++) {
      clock.now = i * CHECK_INTERVAL_MS;
      // A burst every second until the 40th check (an endpoint change a second).
      if (i <= 40) burst();
      calls.length = 0;
      tick();
      if (calls.includes('evict')) evictedAt.push(i);
    }
    stop();
    // The first check's and the 30th's, held until BURST_QUIET_MS after the last burst, are one;
    // the 60th's comes on time.
    expect(evictedAt).toEqual([40 + BURST_QUIET_MS / CHECK_INTERVAL_MS, 60]);
  });

  it('checks nothing from the starting event to the started one, then counts its checks and takes its baseline from there', () => {
    const timers = handTimers();
    try {
      const calls: string[] = [];
      let heap = 5 * MB;
      let collected = 0;
      const stop = startHeapTrim({
        gc: () => {
          collected++;
        },
        readHeap: () => used(heap),
        release: evictingRelease(calls),
        now: () => 0,
        quietReleaseMs: 0,
        burstReleaseMs: 0,
      });
      expect(timers.intervals.size).toBe(1);
      emit(STARTING_EVENT);
      // Held: no timer, and a burst's end runs no check either.
      expect(timers.intervals.size).toBe(0);
      emit(BURST_ENDED_EVENT);
      expect(calls).toEqual([]);
      expect(collected).toBe(0);
      // The start grew the heap by 25 MB; from the started event on, that heap is the baseline...
      heap = 30 * MB;
      emit(STARTED_EVENT);
      expect(timers.intervals.size).toBe(1);
      expect(timers.timeouts.size).toBe(0);
      // ...so the first check, quiet since then, is start-up's end: collect, release, and it is
      // the first check the cache eviction counts.
      heap = 30 * MB + QUIET_BYTES - 1;
      timers.tick();
      expect(collected).toBe(1);
      expect(calls).toEqual(['malloc', 'pages', 'evict']);
      stop?.();
      expect(timers.intervals.size).toBe(0);
      for (const event of [STARTING_EVENT, STARTED_EVENT]) expect(process.listenerCount(event)).toBe(0);
    } finally {
      timers.restore();
    }
  });

  it('with plainStartUpCollection, ends the start-up after the started event with a plain full collection', () => {
    const timers = handTimers();
    try {
      const flavors: string[] = [];
      let heap = 5 * MB;
      const stop = startHeapTrim({
        gc: (options: HeapTrim.GcOptions) => flavors.push(options.flavor),
        readHeap: () => used(heap),
        release: evictingRelease([]),
        now: () => 0,
        plainStartUpCollection: true,
        watchGc: () => () => undefined,
      });
      emit(STARTING_EVENT);
      heap = 30 * MB;
      emit(STARTED_EVENT);
      timers.tick();
      expect(flavors).toEqual(['regular']);
      stop?.();
    } finally {
      timers.restore();
    }
  });

  it("with plainStartUpCollection, watches V8's mark-compacts from the trim's start until the start-up collection, which a recent one replaces", () => {
    const timers = handTimers();
    try {
      const flavors: string[] = [];
      const reads: string[] = [];
      let heap = 5 * MB;
      const options = {
        gc: (options: HeapTrim.GcOptions) => flavors.push(options.flavor),
        readHeap: () => used(heap),
        release: evictingRelease([]),
        now: () => 0,
        watchGc: () => {
          reads.push('watch');
          return () => {
            reads.push('read');
            return 29 * MB;
          };
        },
      };
      // Not asked for: no watch.
      startHeapTrim(options)?.();
      expect(reads).toEqual([]);
      const stop = startHeapTrim({ ...options, plainStartUpCollection: true });
      expect(reads).toEqual(['watch']);
      emit(STARTING_EVENT);
      heap = 30 * MB;
      emit(STARTED_EVENT);
      timers.tick();
      expect(flavors).toEqual([]);
      expect(reads).toEqual(['watch', 'read']);
      // Stopping the trim stops the watch too (harmless once read).
      stop?.();
      expect(reads).toEqual(['watch', 'read', 'read']);
    } finally {
      timers.restore();
    }
  });

  it('ends a start-up hold that never hears the started event after START_UP_HOLD_MAX_MS; a started event alone changes nothing', () => {
    const timers = handTimers();
    try {
      const calls: string[] = [];
      const stop = startHeapTrim({
        gc: null,
        release: evictingRelease(calls),
        quietReleaseMs: 0,
        burstReleaseMs: 0,
      });
      // Without the starting event (kube-proxy), the started event neither adds nor restarts a timer.
      emit(STARTED_EVENT);
      expect(timers.intervals.size).toBe(1);
      emit(STARTING_EVENT);
      expect([...timers.timeouts].map((timer) => timer.ms)).toEqual([START_UP_HOLD_MAX_MS]);
      timers.tick();
      expect(calls).toEqual([]);
      timers.expire();
      expect(timers.intervals.size).toBe(1);
      timers.tick();
      expect(calls).toEqual(['pages', 'evict']);
      stop?.();
    } finally {
      timers.restore();
    }
  });

  it('does nothing with neither gc nor a page release, and answers the burst-ended event', () => {
    expect(startHeapTrim({ gc: null })).toBeUndefined();
    let collected = 0;
    let released = 0;
    const stop = startHeapTrim({
      gc: () => {
        collected++;
      },
      readHeap: () => used(50 * MB),
      // Far beyond the test: only the event runs a check.
      intervalMs: 3_600_000,
      release: {
        releaseExecutablePages: () => {
          released++;
          return 0;
        },
        releaseMallocFree: () => true,
        evictExecutableCache: () => 0,
      },
      now: () => 1000,
    });
    (process as NodeJS.EventEmitter).emit(BURST_ENDED_EVENT);
    expect(collected).toBe(1);
    expect(released).toBe(1);
    stop?.();
    (process as NodeJS.EventEmitter).emit(BURST_ENDED_EVENT);
    expect(released).toBe(1);
    expect(process.listenerCount(BURST_ENDED_EVENT)).toBe(0);
  });

  it("collects only at burst ends while they come less than BURST_QUIET_MS apart; the timer's checks then only release", () => {
    let now = 0;
    let heap = 30 * MB;
    const collectedAt: number[] = [];
    const calls: string[] = [];
    const { tick, stop } = startByHand({
      gc: () => {
        collectedAt.push(now);
        heap = 30 * MB;
      },
      readHeap: () => used(heap),
      release: recordingRelease(calls),
      now: () => now,
      quietReleaseMs: 0,
      burstReleaseMs: 0,
    });
    try {
      // Before any burst-ended event the timer collects (start-up's end: a quiet check).
      tick();
      expect(collectedAt).toEqual([0]);
      // Bursts every second that leave nothing to collect, past MIN_GAP_MS.
      const lastBurst = MIN_GAP_MS + 2000;
      for (now = 1000; now <= lastBurst; now += 1000) emit(BURST_ENDED_EVENT);
      expect(collectedAt).toEqual([0]);
      // The heap grew past the slack after the last one: a timer's check would collect; half a
      // second after a burst it only releases (here at every check: how often is the next tests').
      heap = 30 * MB + 2 * SLACK_BYTES;
      calls.length = 0;
      now = lastBurst + 500;
      tick();
      expect(collectedAt).toEqual([0]);
      expect(calls).toContain('pages');
      now = lastBurst + BURST_QUIET_MS - 1;
      tick();
      expect(collectedAt).toEqual([0]);
      // BURST_QUIET_MS after the last burst the timer collects again.
      now = lastBurst + BURST_QUIET_MS;
      tick();
      expect(collectedAt).toEqual([0, now]);
    } finally {
      stop();
    }
  });

  it('releases every BURST_RELEASE_MS while bursts come less than BURST_QUIET_MS apart, and at the first quiet check after they stop', () => {
    const { tick, stop, clock, releasedAt } = startRecordingReleases();
    try {
      expect(BURST_RELEASE_MS).toBeGreaterThan(QUIET_RELEASE_MS);
      tick(); // the first check releases
      // Small bursts every second (a one-endpoint change each) for 150 s, the timer's checks between.
      const lastBurst = 150_000;
      for (clock.now = 1000; clock.now <= lastBurst; clock.now += 500) {
        if (clock.now % 1000 === 0) emit(BURST_ENDED_EVENT);
        else tick();
      }
      expect(releasedAt).toEqual([0, BURST_RELEASE_MS, 2 * BURST_RELEASE_MS]);
      // Quiet again: the timer's checks release at the first one BURST_QUIET_MS after the last burst.
      for (clock.now = lastBurst + 1000; clock.now <= lastBurst + BURST_QUIET_MS + 2000; clock.now += 1000)
        tick();
      expect(releasedAt).toEqual([0, BURST_RELEASE_MS, 2 * BURST_RELEASE_MS, lastBurst + BURST_QUIET_MS]);
    } finally {
      stop();
    }
  });

  it('releases at quiet checks every quietReleaseMs when it is the longer, bursts or not', () => {
    const { tick, stop, clock, releasedAt } = startRecordingReleases({
      quietReleaseMs: 90_000,
      burstReleaseMs: 20_000,
    });
    try {
      tick();
      for (clock.now = 1000; clock.now <= 100_000; clock.now += 1000) emit(BURST_ENDED_EVENT);
      expect(releasedAt).toEqual([0, 90_000]);
    } finally {
      stop();
    }
  });

  it('collects once the memory-freed events settled, whatever the growth, and once for a run of them', () => {
    let now = 0;
    let heap = 30 * MB;
    const collectedAt: number[] = [];
    const { tick, stop } = startByHand({
      gc: () => {
        collectedAt.push(now);
        heap = 30 * MB;
      },
      readHeap: () => used(heap),
      now: () => now,
    });
    // Start-up: the first quiet check collects.
    now = 1000;
    tick();
    expect(collectedAt).toEqual([1000]);
    // 8 MB of a delete's garbage, well under the slack: plain checks leave it alone.
    heap = 38 * MB;
    now = 1000 + MIN_GAP_MS;
    tick();
    expect(collectedAt).toEqual([1000]);
    // The app freed its state: nothing in the event's own tick (its callers still hold some)...
    const freed = now;
    (process as NodeJS.EventEmitter).emit(MEMORY_FREED_EVENT);
    expect(collectedAt).toEqual([1000]);
    now = freed + FREED_SETTLE_MS - 1;
    tick();
    expect(collectedAt).toEqual([1000]);
    // ...then at the first check the settle time after it.
    now = freed + FREED_SETTLE_MS;
    tick();
    expect(collectedAt).toEqual([1000, freed + FREED_SETTLE_MS]);
    // A run of events (pods deleted one after another), well within MIN_GAP_MS: one collection,
    // FREED_SETTLE_MS after the last of them.
    let last = now;
    for (let i = 0; i < 5; i++) {
      heap = 38 * MB;
      now += 1000;
      last = now;
      (process as NodeJS.EventEmitter).emit(MEMORY_FREED_EVENT);
      tick();
    }
    expect(collectedAt).toHaveLength(2);
    now = last + FREED_SETTLE_MS;
    tick();
    expect(collectedAt).toEqual([1000, freed + FREED_SETTLE_MS, last + FREED_SETTLE_MS]);
    // Collected: later checks within the slack leave the heap alone again.
    heap = 38 * MB;
    now += MIN_GAP_MS - 1;
    tick();
    expect(collectedAt).toHaveLength(3);
    stop();
    expect(process.listenerCount(MEMORY_FREED_EVENT)).toBe(0);
  });
});
