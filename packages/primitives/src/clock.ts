/**
 * Time and timers, injected everywhere code measures or schedules so tests can drive it
 * (with FakeClock, or with vitest's fake timers and systemClock).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. It reads the globals at call time, so fake timers installed later still apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
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

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing due timers in deadline order (timers set while firing count too). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      // Ties fire in the order they were set: Map iteration is insertion order and `<` keeps the first.
      for (const entry of this.timers)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }

  /** Jumps to an absolute time without firing timers (for tests that only read `now`). */
  set(ms: number): void {
    this.t = ms;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
