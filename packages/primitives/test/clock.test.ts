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

  it('soon fires on the next advance, even advance(0), before later timers, and can be cleared', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('timer-1ms'), 1);
    clock.soon(() => fired.push('soon-a'));
    clock.clearTimeout(clock.soon(() => fired.push('soon-cleared')));
    clock.soon(() => fired.push('soon-b'));
    expect(fired).toEqual([]);
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(0);
    expect(fired).toEqual(['soon-a', 'soon-b']);
    expect(clock.now()).toBe(0);
    clock.advance(1);
    expect(fired).toEqual(['soon-a', 'soon-b', 'timer-1ms']);
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

  it('soon runs after the current task, and clearTimeout tells its handle from a timer', async () => {
    const order: string[] = [];
    systemClock.soon?.(() => order.push('soon'));
    order.push('sync');
    const cleared = systemClock.soon?.(() => order.push('cleared soon'));
    // A soon handle given to clearTimeout cancels only that call; a timer's handle only the timer.
    const timer = systemClock.setTimeout(() => order.push('cleared timer'), 1);
    systemClock.clearTimeout(cleared);
    systemClock.clearTimeout(timer);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['sync', 'soon']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(['sync', 'soon']);
  });

  it('rejects a negative advance, naming the value', async () => {
    const clock = new FakeClock(0);
    expect(() => clock.advance(-1)).toThrow('FakeClock.advance: ms must be >= 0, got -1');
    await expect(clock.advanceAsync(Number.NaN)).rejects.toThrow('got NaN');
  });

  it('advanceAsync lets each woken task run before the next timer is considered', async () => {
    const clock = new FakeClock(1_000);
    const seen: string[] = [];
    // An async loop: each wake-up does awaited work, then sleeps again; a sync advance would stop
    // after the first timer because the next sleep is set only after the await.
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 100));
        await Promise.resolve();
        seen.push(`tick@${clock.now()}`);
      }
    };
    const done = loop();
    const cancelled = clock.setTimeout(() => seen.push('cancelled'), 150);
    clock.clearTimeout(cancelled);
    await clock.advanceAsync(300, () => new Promise((resolve) => setImmediate(resolve)));
    await done;
    expect(seen).toEqual(['tick@1100', 'tick@1200', 'tick@1300']);
    expect(clock.now()).toBe(1_300);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('whenPending resolves once enough timers are set and rejects when they never are', async () => {
    const clock = new FakeClock(0);
    setImmediate(() => clock.setTimeout(() => {}, 10));
    await clock.whenPending(1);
    expect(clock.pendingTimers()).toBe(1);
    await expect(clock.whenPending(2, 20)).rejects.toThrow('FakeClock: only 1/2 timers pending');
  });
});
