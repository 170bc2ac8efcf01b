import { describe, expect, it } from 'vitest';
import { runQueueWaitMs } from '../src/runtime/run-queue-wait';

// The scheduler's run_delay of a thread (issue #54: did a slow endpoint change wait for a core?).

describe('runQueueWaitMs', () => {
  it("reads this thread's wait for a CPU, which only grows, and this process's main thread's", () => {
    const before = runQueueWaitMs();
    let spin = 0;
    for (let i = 0; i < 1e6; i++) spin += i;
    expect(spin).toBeGreaterThan(0);
    expect(Number.isFinite(before)).toBe(true);
    expect(runQueueWaitMs()).toBeGreaterThanOrEqual(before);
    expect(Number.isFinite(runQueueWaitMs(`${process.pid}/task/${process.pid}`))).toBe(true);
  });

  it('is NaN for a task that does not exist', () => {
    expect(runQueueWaitMs(`${2 ** 30}/task/${2 ** 30}`)).toBeNaN();
  });
});
