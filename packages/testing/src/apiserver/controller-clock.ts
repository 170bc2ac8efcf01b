import { type Clock, FakeClock, systemClock as primitivesSystemClock } from '@nodeagent/primitives';

/**
 * The control-plane controllers' (node lifecycle, taint eviction, scheduler, ReplicaSet) view of a
 * primitives `Clock`: times as `Date` (they stamp RFC 3339 fields) and timers as cancellable
 * handles. Time and timers themselves are primitives' `Clock`/`FakeClock`; this file only adapts.
 */
export interface ControllerTimer {
  /** Cancels the timer if it has not fired. */
  cancel(): void;
}

/** The clock the controllers read and schedule on. */
export interface ControllerClock {
  /** The current time. */
  now(): Date;
  /** Run `fn` once `delayMs` have passed on this clock. */
  setTimer(delayMs: number, fn: () => void): ControllerTimer;
}

/** The controllers' view of any primitives `Clock`. */
export function controllerClock(clock: Clock): ControllerClock {
  return {
    now: () => new Date(clock.now()),
    setTimer(delayMs, fn) {
      const handle = clock.setTimeout(fn, Math.max(0, delayMs));
      // A controller's pending timer must not keep a test process (or the demo) alive after close().
      (handle as { unref?: () => void } | undefined)?.unref?.();
      return { cancel: () => clock.clearTimeout(handle) };
    },
  };
}

/** The wall clock, for the demo and the CLI. */
export const systemClock: ControllerClock = controllerClock(primitivesSystemClock);

/** Let queued setImmediate / microtask work (controllers' reactions to store events) run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A primitives `FakeClock` seen as a ControllerClock. `advance(ms)` fires every timer due in that
 * span in time order, with the clock set to each timer's due time, and lets the controllers'
 * queued work run a step after each one, so a test sees the same sequence of writes the real
 * timings would produce. Chains of reactions (a ReplicaSet's pod, then its binding) finish with
 * `controlPlane.settled()`.
 */
export class ManualClock implements ControllerClock {
  /** The clock underneath, for code that takes a primitives `Clock` in the same test. */
  readonly fake: FakeClock;
  private readonly view: ControllerClock;

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.fake = new FakeClock(typeof start === 'number' ? start : start.getTime());
    this.view = controllerClock(this.fake);
  }

  /** The manual time. */
  now(): Date {
    return this.view.now();
  }

  setTimer(delayMs: number, fn: () => void): ControllerTimer {
    return this.view.setTimer(delayMs, fn);
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.fake.pendingTimers();
  }

  /** Moves time forward, firing due timers in order and letting the controllers react. */
  advance(ms: number): Promise<void> {
    return this.fake.advanceAsync(ms, async () => {
      await turn();
      await turn();
    });
  }
}
