/**
 * Time and timers, injected everywhere code measures or schedules so tests can drive it
 * (with FakeClock, or with vitest's fake timers and systemClock).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms` of this clock's time; the handle is for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of this clock, `soon` ones included (a handle of another clock is ignored). */
  clearTimeout(handle: unknown): void;
  /**
   * Calls `fn` once the current task and its microtasks are done, without the 1 ms floor of a
   * zero-delay timer (Node's `setImmediate`); the handle is for clearTimeout. Optional so a
   * clock written before it still type-checks: callers fall back to `setTimeout(fn, 0)`.
   */
  soon?(fn: () => void): unknown;
}

/** A pending `systemClock.soon` call: wrapped so clearTimeout can tell it from a Timeout. */
class SoonHandle {
  constructor(readonly immediate: NodeJS.Immediate) {}
}

/** The real clock. It reads the globals at call time, so fake timers installed later still apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    // clearImmediate on a Timeout (or the reverse) would corrupt Node's bookkeeping: dispatch on the type.
    if (handle instanceof SoonHandle) clearImmediate(handle.immediate);
    else clearTimeout(handle as NodeJS.Timeout);
  },
  soon: (fn) => new SoonHandle(setImmediate(fn)),
};

interface FakeTimer {
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to: timers fire when `advance` passes their deadline. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  /** Starts at 2025-01-01T00:00:00Z by default, so times render as plausible dates. */
  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  /** Schedules `fn` at now + ms; it fires when advance() passes that time. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  /** Cancels a scheduled timer. */
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /**
   * A timer due now: it fires on the next `advance` (`advance(0)` included), before any timer
   * due later and after those set earlier for now, so tests drive it like any other timer.
   */
  soon(fn: () => void): unknown {
    return this.setTimeout(fn, 0);
  }

  /** Moves time forward, firing due timers in deadline order (timers set while firing count too). */
  advance(ms: number): void {
    const end = this.endOf(ms);
    for (let next = this.takeDue(end); next; next = this.takeDue(end)) next();
    this.t = end;
  }

  /**
   * `advance` for code that reacts asynchronously (promise chains, I/O with an in-process server):
   * awaits `settle` before the first timer, after each one and at the end, so each woken task
   * runs (and sets its next timer) before time moves on, as it would with real timings.
   */
  async advanceAsync(ms: number, settle: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    const end = this.endOf(ms);
    await settle();
    for (let next = this.takeDue(end); next; next = this.takeDue(end)) {
      next();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /**
   * Waits in real time until at least `count` timers are pending: the tasks under test have parked
   * on this clock. Rejects after `timeoutMs` of real time so a task that never parks fails the test.
   */
  async whenPending(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.size < count) {
      if (Date.now() > deadline)
        throw new Error(`FakeClock: only ${this.timers.size}/${count} timers pending`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Jumps to an absolute time without firing timers (for tests that only read `now`). */
  set(ms: number): void {
    this.t = ms;
  }

  /** Timers set and neither fired nor cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  private endOf(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    return this.t + ms;
  }

  /** Removes and returns the earliest timer due by `end`, with the clock moved to its deadline. */
  private takeDue(end: number): (() => void) | undefined {
    let next: [number, FakeTimer] | undefined;
    // Ties fire in the order they were set: Map iteration is insertion order and `<` keeps the first.
    for (const entry of this.timers)
      if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
    if (!next) return undefined;
    this.timers.delete(next[0]);
    this.t = Math.max(this.t, next[1].at);
    return next[1].fn;
  }
}
