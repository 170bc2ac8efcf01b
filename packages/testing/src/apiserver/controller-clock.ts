/**
 * The time source of the in-process control-plane controllers (node lifecycle, taint eviction,
 * scheduler, ReplicaSet): wall-clock by default, a ManualClock in tests so grace periods and
 * toleration seconds pass in microseconds and nothing races the real clock.
 */
export interface ControllerTimer {
  cancel(): void;
}

export interface ControllerClock {
  now(): Date;
  /** Run `fn` once `delayMs` have passed on this clock. */
  setTimer(delayMs: number, fn: () => void): ControllerTimer;
}

export const systemClock: ControllerClock = {
  now: () => new Date(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // A controller's pending timer must not keep a test process (or the demo) alive after close().
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Let queued setImmediate / microtask work (controllers' reactions to store events) run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told. `advance(ms)` fires every timer due in that span in time
 * order, with the clock set to each timer's due time, and lets the controllers' queued work run
 * a step after each one, so a test sees the same sequence of writes the real timings would
 * produce. Chains of reactions (a ReplicaSet's pod, then its binding) finish with
 * `controlPlane.settled()`.
 */
export class ManualClock implements ControllerClock {
  private current: number;
  private seq = 0;
  private readonly timers: PendingTimer[] = [];

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(delayMs: number, fn: () => void): ControllerTimer {
    const timer: PendingTimer = {
      at: this.current + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    const end = this.current + ms;
    await turn();
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await turn();
      await turn();
    }
    this.current = end;
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i]?.cancelled) this.timers.splice(i, 1);
    await turn();
  }
}
