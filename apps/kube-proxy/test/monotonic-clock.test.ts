import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { monotonicNow, performanceToMonotonicMs, wallMinusMonotonicMs } from '../bench/monotonic-clock';

// The scale bench's one clock across processes (issue #54): the bench's stamps, its helpers'
// and the daemon's sync marks must subtract exactly, whatever each process's start was like.

describe('the bench clock', () => {
  it("reads the same clock in another process: a child's reading falls between two of ours", () => {
    const before = monotonicNow();
    const child = spawnSync(process.execPath, ['-e', 'console.log(Number(process.hrtime.bigint()) / 1e6)'], {
      encoding: 'utf8',
    });
    const after = monotonicNow();
    expect(child.status).toBe(0);
    const theirs = Number(child.stdout);
    expect(theirs).toBeGreaterThan(before);
    expect(theirs).toBeLessThan(after);
  });

  it('puts a performance.now() time on it', () => {
    const offset = performanceToMonotonicMs();
    const before = monotonicNow();
    const entry = performance.now();
    const after = monotonicNow();
    // performance.now() counts on the same clock: at most a few µs of the reads' own rounding.
    expect(entry + offset).toBeGreaterThanOrEqual(before - 0.01);
    expect(entry + offset).toBeLessThanOrEqual(after + 0.01);
  });

  it('puts a whole-ms wall-clock stamp within its own ms on it', () => {
    const offset = wallMinusMonotonicMs();
    const before = monotonicNow();
    const wall = Date.now();
    const after = monotonicNow();
    // Date.now() is the wall clock's ms, rounded down: the stamp is up to 1 ms before the moment.
    expect(wall - offset).toBeGreaterThan(before - 1.01);
    expect(wall - offset).toBeLessThanOrEqual(after + 0.01);
  });
});
