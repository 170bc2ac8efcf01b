import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as HeapTrim from './heap-trim.cjs';

const { check, startHeapTrim, SLACK_BYTES, MIN_GAP_MS, CHECK_INTERVAL_MS } = createRequire(import.meta.url)(
  './heap-trim.cjs',
) as typeof HeapTrim;

const MB = 1024 * 1024;

/** Runs one check per reading, CHECK_INTERVAL_MS apart; returns the checks at which gc ran and the last state. */
function simulate(readings: number[], liveAfterGc: number) {
  let heap = readings[0] as number;
  let state = { live: heap, collectedAt: 0 };
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
    expect(collections).toEqual([2]);
    expect(state.live).toBe(120 * MB);
    // Growth right after a collection waits for MIN_GAP_MS.
    const burst = simulate([30 * MB, 30 * MB, 200 * MB, 300 * MB, 400 * MB], 100 * MB);
    expect(burst.collections).toEqual([2, 2 + MIN_GAP_MS / CHECK_INTERVAL_MS]);
  });

  it('leaves growth below the slack alone', () => {
    const small = 30 * MB + SLACK_BYTES - MB;
    expect(simulate([30 * MB, small, small, small, small], 30 * MB).collections).toEqual([]);
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
