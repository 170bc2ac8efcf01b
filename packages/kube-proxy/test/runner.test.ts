import { type Clock, FakeClock, systemClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { BoundedFrequencyRunner } from '../src/runtime/index';

function make(minIntervalMs: number, maxIntervalMs: number, fn?: () => unknown) {
  const clock = new FakeClock(1_000_000);
  const starts: number[] = [];
  const runner = new BoundedFrequencyRunner(
    'test',
    () => {
      starts.push(clock.now() - 1_000_000);
      return fn?.();
    },
    { minIntervalMs, maxIntervalMs, clock },
  );
  return { clock, runner, starts };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('BoundedFrequencyRunner', () => {
  it('runs a request immediately, then holds further requests for minInterval', async () => {
    const { clock, runner, starts } = make(1000, 30000);
    runner.start();
    runner.run();
    clock.advance(0);
    await flush();
    expect(starts).toEqual([0]);
    clock.advance(100);
    runner.run();
    runner.run();
    clock.advance(500);
    await flush();
    expect(starts).toEqual([0]);
    clock.advance(400);
    await flush();
    expect(starts).toEqual([0, 1000]);
  });

  it('runs every maxInterval without requests', async () => {
    const { clock, runner, starts } = make(1000, 30000);
    runner.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(30000);
      await flush();
    }
    expect(starts).toEqual([30000, 60000, 90000]);
  });

  it('retryAfter schedules a run unless one is due sooner', async () => {
    const { clock, runner, starts } = make(1000, 30000);
    runner.start();
    runner.retryAfter(5000);
    clock.advance(4999);
    await flush();
    expect(starts).toEqual([]);
    clock.advance(1);
    await flush();
    expect(starts).toEqual([5000]);
  });

  it('never overlaps async runs and reruns once for requests made during a run', async () => {
    let release: () => void = () => {};
    let active = 0;
    let maxActive = 0;
    const { clock, runner, starts } = make(0, 60000, async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => {
        release = r;
      });
      active--;
    });
    runner.start();
    runner.run();
    clock.advance(0);
    await flush();
    runner.run();
    runner.run();
    clock.advance(10);
    await flush();
    expect(starts).toEqual([0]);
    release();
    await runner.whenIdle();
    await flush();
    clock.advance(0);
    await flush();
    expect(starts).toEqual([0, 10]);
    release();
    await runner.whenIdle();
    expect(maxActive).toBe(1);
    runner.stop();
  });

  // Upstream v1.36 (pkg/proxy/runner/bounded_frequency_runner.go, Loop) resets its minInterval
  // and next-run timers after fn returns: both intervals count from a run's end. Each sync below
  // takes fake time (the test moves the clock while fn is pending), so start and end differ.
  describe('counts the intervals from the end of a run that takes time', () => {
    /** A runner whose every run stays pending until `finish` moves the clock by its duration. */
    function slow(minIntervalMs: number, maxIntervalMs: number, during?: () => void) {
      let release = () => {};
      const made = make(minIntervalMs, maxIntervalMs, () => {
        during?.();
        return new Promise<void>((r) => {
          release = r;
        });
      });
      const finish = async (durationMs: number) => {
        made.clock.advance(durationMs);
        release();
        await made.runner.whenIdle();
        await flush();
      };
      return { ...made, finish };
    }

    it('minInterval: a request during a 2.5 s sync runs 1 s after it ends, not at once', async () => {
      const { clock, runner, starts, finish } = slow(1000, 30000);
      runner.start();
      runner.run();
      clock.advance(0);
      await flush();
      expect(starts).toEqual([0]);
      clock.advance(100);
      runner.run();
      await finish(2400); // ends at 2500, 1.5 s past start + minInterval
      expect(runner.nextRunAt() - 1_000_000).toBe(3500);
      clock.advance(999);
      await flush();
      expect(starts).toEqual([0]);
      clock.advance(1);
      await flush();
      expect(starts).toEqual([0, 3500]);
      await finish(0);
      runner.stop();
    });

    it('minInterval: a request after the sync waits for its end + minInterval', async () => {
      const { clock, runner, starts, finish } = slow(1000, 30000);
      runner.start();
      runner.run();
      clock.advance(0);
      await flush();
      await finish(800); // ends at 800: start + minInterval (1000) would allow a run at 1000
      clock.advance(300);
      runner.run();
      expect(runner.nextRunAt() - 1_000_000).toBe(1800);
      clock.advance(699);
      await flush();
      expect(starts).toEqual([0]);
      clock.advance(1);
      await flush();
      expect(starts).toEqual([0, 1800]);
      await finish(0);
      runner.stop();
    });

    it('maxInterval: the next unrequested run is maxInterval after the end', async () => {
      const { clock, runner, starts, finish } = slow(1000, 30000);
      runner.start();
      clock.advance(30000);
      await flush();
      expect(starts).toEqual([30000]);
      await finish(5000); // ends at 35000
      clock.advance(29999);
      await flush();
      expect(starts).toEqual([30000]);
      clock.advance(1);
      await flush();
      expect(starts).toEqual([30000, 65000]);
      await finish(0);
      runner.stop();
    });

    it('retryAfter during a run (a failed sync) counts from its end; the next run cancels it', async () => {
      let failing = true;
      const made = slow(1000, 30000, () => {
        if (failing) made.runner.retryAfter(5000);
      });
      const { clock, runner, starts, finish } = made;
      runner.start();
      runner.run();
      clock.advance(0);
      await flush();
      await finish(2000); // fails, ends at 2000: retry at 7000, not a rerun at minInterval
      clock.advance(4999);
      await flush();
      expect(starts).toEqual([0]);
      failing = false;
      clock.advance(1);
      await flush();
      expect(starts).toEqual([0, 7000]);
      await finish(500); // succeeds, ends at 7500: next run maxInterval later
      expect(runner.nextRunAt() - 1_000_000).toBe(37500);
      runner.stop();
    });
  });

  it('keeps running after fn throws and reports the error', async () => {
    const errors: unknown[] = [];
    const clock = new FakeClock(0);
    let n = 0;
    const runner = new BoundedFrequencyRunner(
      'err',
      () => {
        n++;
        throw new Error('boom');
      },
      { minIntervalMs: 0, maxIntervalMs: 1000, clock, onError: (e) => errors.push(e) },
    );
    runner.start();
    clock.advance(1000);
    await flush();
    clock.advance(1000);
    await flush();
    expect(n).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('does nothing after stop', async () => {
    const { clock, runner, starts } = make(0, 1000);
    runner.start();
    runner.stop();
    runner.run();
    clock.advance(5000);
    await flush();
    expect(starts).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs an allowed request through clock.soon, a request inside minInterval through a timer', async () => {
    const fake = new FakeClock(0);
    const calls: string[] = [];
    const clock: Clock = {
      now: () => fake.now(),
      setTimeout: (fn, ms) => {
        calls.push(`setTimeout ${ms}`);
        return fake.setTimeout(fn, ms);
      },
      clearTimeout: (h) => fake.clearTimeout(h),
      soon: (fn) => {
        calls.push('soon');
        return fake.soon(fn);
      },
    };
    const runner = new BoundedFrequencyRunner('soon', () => {}, {
      minIntervalMs: 1000,
      maxIntervalMs: 30000,
      clock,
    });
    runner.start();
    runner.run();
    expect(calls).toEqual(['setTimeout 30000', 'soon']);
    fake.advance(0);
    await flush();
    expect(runner.runs).toBe(1);
    fake.advance(400);
    calls.length = 0;
    runner.run();
    expect(calls).toEqual(['setTimeout 600']);
    runner.stop();
  });

  it('falls back to a zero-delay timer on a clock without soon', () => {
    const fake = new FakeClock(0);
    const delays: number[] = [];
    const clock: Clock = {
      now: () => fake.now(),
      setTimeout: (fn, ms) => {
        delays.push(ms);
        return fake.setTimeout(fn, ms);
      },
      clearTimeout: (h) => fake.clearTimeout(h),
    };
    const runner = new BoundedFrequencyRunner('no-soon', () => {}, {
      minIntervalMs: 0,
      maxIntervalMs: 30000,
      clock,
    });
    runner.start();
    runner.run();
    expect(delays).toEqual([30000, 0]);
    runner.stop();
  });

  it('with minInterval 0 on the system clock, requests of one task run once, with no timer hop', async () => {
    let runs = 0;
    const runner = new BoundedFrequencyRunner('system', () => void runs++, {
      minIntervalMs: 0,
      maxIntervalMs: 60_000,
      clock: systemClock,
    });
    runner.start();
    runner.run();
    runner.run();
    runner.run();
    expect(runs).toBe(0);
    // setImmediate callbacks run in queue order, before the next timers phase: a zero-delay
    // timer (>= 1 ms in Node) would not have fired by then.
    await flush();
    expect(runs).toBe(1);
    await flush();
    expect(runs).toBe(1);
    runner.stop();
  });
});
