import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as HeapTrim from './heap-trim.cjs';

const { check, startHeapTrim, SLACK_BYTES, MIN_GAP_MS, MAX_GAP_MS, CHECK_INTERVAL_MS } = createRequire(
  import.meta.url,
)('./heap-trim.cjs') as typeof HeapTrim;

const MB = 1024 * 1024;

/** Runs one check per reading, CHECK_INTERVAL_MS apart; returns the checks at which gc ran and the last state. */
function simulate(readings: number[], liveAfterGc: number) {
  let heap = readings[0] as number;
  let state = { live: heap, last: heap, collectedAt: 0, trailing: false };
  const collections: number[] = [];
  for (const [i, reading] of readings.slice(1).entries()) {
    heap = reading;
    const at = (i + 1) * CHECK_INTERVAL_MS;
    state = check(
      state,
      () => heap,
      () => {
        collections.push(i + 1);
        heap = liveAfterGc;
      },
      at,
    );
  }
  return { collections, state };
}

describe('heap trim', () => {
  it('collects when the heap grew well above the live size, then not again before the gap', () => {
    // 30 MB idle, a sync grows it to 400 MB; afterwards 120 MB are live.
    const { collections, state } = simulate([30 * MB, 200 * MB, 400 * MB, 120 * MB, 121 * MB], 120 * MB);
    // Check 2 collected while the heap was still growing fast: one trailing collection at check 4.
    expect(collections).toEqual([2, 4]);
    expect(state.live).toBe(120 * MB);
    // Growth right after a collection waits for MIN_GAP_MS.
    const burst = simulate([30 * MB, 30 * MB, 200 * MB, 300 * MB, 400 * MB], 100 * MB);
    expect(burst.collections).toEqual([2, 2 + MIN_GAP_MS / CHECK_INTERVAL_MS]);
  });

  it('collects once more after a collection that caught a burst mid-way', () => {
    // The first collection (check 2) runs while the heap is still growing fast and finds 450 MB
    // live; the burst ends just above that, within the slack, so only the trailing collection
    // (check 4, MIN_GAP_MS later) brings the heap down to the 134 MB really live.
    let heap = 30 * MB;
    const readings = [30 * MB, 300 * MB, 455 * MB, 460 * MB, 460 * MB, 134 * MB, 134 * MB];
    let state = { live: heap, last: heap, collectedAt: 0, trailing: false };
    const gcs: number[] = [];
    const afterGc = [450 * MB, 134 * MB];
    for (let i = 1; i < readings.length; i++) {
      heap = readings[i] as number;
      state = check(
        state,
        () => heap,
        () => {
          gcs.push(i);
          heap = afterGc[gcs.length - 1] as number;
        },
        i * CHECK_INTERVAL_MS,
      );
      if (gcs.at(-1) === i) readings[i + 1] = Math.max(heap, readings[i + 1] as number);
    }
    expect(gcs).toEqual([2, 4]);
    expect(state.live).toBe(134 * MB);
    expect(state.trailing).toBe(false);
  });

  it('leaves growth below the slack alone until MAX_GAP_MS has passed', () => {
    const small = 30 * MB + SLACK_BYTES - MB;
    const checks = MAX_GAP_MS / CHECK_INTERVAL_MS;
    const readings = Array.from({ length: checks + 2 }, (_, i) => (i === 0 ? 30 * MB : small));
    // Memory held after a burst and released later is only found by the periodic collection.
    expect(simulate(readings, 25 * MB).collections).toEqual([checks]);
  });

  it('follows the heap down when V8 collected on its own', () => {
    const { collections, state } = simulate([300 * MB, 300 * MB, 100 * MB, 100 * MB], 0);
    expect(collections).toEqual([]);
    expect(state.live).toBe(100 * MB);
  });

  it('does nothing without an exposed gc, and runs on its timer when there is one', async () => {
    expect(startHeapTrim(undefined)).toBeUndefined();
    let heap = 10 * MB;
    let collected = 0;
    const stop = startHeapTrim(
      () => {
        collected++;
        heap = 10 * MB;
      },
      () => heap,
      5,
    );
    heap = 100 * MB;
    await new Promise((r) => setTimeout(r, 60));
    stop?.();
    // collectedAt starts at the start time, so the first collection waits MIN_GAP_MS.
    expect(collected).toBe(0);
  });
});
