import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../src/index';

describe('FakeClock', () => {
  it('starts at 2025-01-01 by default and at the given time otherwise', () => {
    expect(new FakeClock().now()).toBe(Date.UTC(2025, 0, 1));
    expect(new FakeClock(0).now()).toBe(0);
  });

  it('fires due timers in deadline order, at their deadline, and timers set while firing', () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      seen.push(`a@${clock.now()}`);
      clock.setTimeout(() => seen.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => seen.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.advance(14);
    expect(seen).toEqual(['a@10']);
    clock.advance(100);
    expect(seen).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.now()).toBe(114);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('set jumps without firing timers', () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.set(50);
    expect(clock.now()).toBe(50);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(1);
  });
});

describe('systemClock', () => {
  it('reads the real time and runs real timers', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 1));
    let fired = false;
    systemClock.clearTimeout(
      systemClock.setTimeout(() => {
        fired = true;
      }, 1),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toBe(false);
  });
});
