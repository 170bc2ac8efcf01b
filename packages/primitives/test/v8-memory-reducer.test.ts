import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepV8MemoryReducerAlive, MEMORY_REDUCER_PULSE_INTERVAL_MS } from '../src/v8-memory-reducer';

// What the script does to V8's memory reducer is checked on the Node 24 the executables carry
// (tools/sea/v8-memory-reducer.test.ts); here, when it is made.
describe('keepV8MemoryReducerAlive', () => {
  afterEach(() => vi.useRealTimers());

  it('allocates at once, then every interval on a timer that does not hold the process, until stopped', () => {
    vi.useFakeTimers();
    const allocate = vi.fn();
    const stop = keepV8MemoryReducerAlive(MEMORY_REDUCER_PULSE_INTERVAL_MS, allocate);
    expect(allocate).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(MEMORY_REDUCER_PULSE_INTERVAL_MS - 1);
    expect(allocate).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(MEMORY_REDUCER_PULSE_INTERVAL_MS);
    expect(allocate).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(1);
    stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 * MEMORY_REDUCER_PULSE_INTERVAL_MS);
    expect(allocate).toHaveBeenCalledTimes(3);
  });

  it('stays inside the ~110 s the embedder rate stays above 0 after one script, with a reducer tick (8 s) to spare', () => {
    expect(MEMORY_REDUCER_PULSE_INTERVAL_MS + 8_000).toBeLessThan(110_000);
  });
});
