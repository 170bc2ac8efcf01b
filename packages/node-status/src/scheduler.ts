/** Time source, injected so tests can drive cadence with fake timers or a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Reads the globals at call time, so vitest's fake timers apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Sleeps that all end early (resolving false) when the owner stops. */
export class Sleeper {
  private readonly pending = new Map<unknown, () => void>();
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Resolves true after ms, or false at once / as soon as `stop()` is called. */
  sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => {
        this.pending.delete(handle);
        resolve(true);
      }, ms);
      this.pending.set(handle, () => resolve(false));
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    this.stopped = true;
    for (const [handle, wake] of this.pending) {
      this.clock.clearTimeout(handle);
      wake();
    }
    this.pending.clear();
  }
}

/** Exponential backoff like the kubelet's registration loop: 100 ms doubling up to 7 s. */
export class Backoff {
  private next: number;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 7_000,
  ) {
    this.next = initialMs;
  }

  step(): number {
    const d = this.next;
    this.next = Math.min(this.maxMs, this.next * 2);
    return d;
  }

  reset(): void {
    this.next = this.initialMs;
  }
}
