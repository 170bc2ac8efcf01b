import { type Clock, systemClock } from '@nodeagent/primitives';

/** Options of BoundedFrequencyRunner (upstream's async.BoundedFrequencyRunner). */
export interface BoundedFrequencyRunnerOptions {
  /** Runs start at least this far apart (upstream minSyncPeriod). */
  minIntervalMs: number;
  /** A run happens at least this often even without requests (upstream syncPeriod). */
  maxIntervalMs: number;
  /** Time source for the intervals (default: the system clock); tests inject a manual one. */
  clock?: Clock;
  /** Called when fn throws or rejects; the runner keeps going. */
  onError?: (err: unknown) => void;
}

/**
 * Runs `fn` when asked, but never more often than minInterval and never less often than
 * maxInterval; requests that arrive while it runs or inside the quiet period collapse into
 * one run. `fn` may be async; runs never overlap.
 */
export class BoundedFrequencyRunner {
  private readonly clock: Clock;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastRunStart = Number.NEGATIVE_INFINITY;
  private running = false;
  private requestedDuringRun = false;
  private stopped = true;
  private idleWaiters: (() => void)[] = [];
  runs = 0;

  constructor(
    readonly name: string,
    private readonly fn: () => unknown,
    private readonly opts: BoundedFrequencyRunnerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Starts the periodic schedule: the first unrequested run is maxInterval from now. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleAt(this.clock.now() + this.opts.maxIntervalMs);
  }

  /** Cancels the pending run; later run() requests are ignored until start(). A run in progress finishes. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  /** Asks for a run as soon as minInterval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.requestedDuringRun = true;
      return;
    }
    this.scheduleAt(Math.max(this.clock.now(), this.lastRunStart + this.opts.minIntervalMs));
  }

  /** Asks for a run after `ms` (e.g. after a failed sync), unless one is due sooner. */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.requestedDuringRun = true;
      return;
    }
    this.scheduleAt(Math.max(this.clock.now() + ms, this.lastRunStart + this.opts.minIntervalMs));
  }

  /** Resolves when no run is in progress (for shutdown and tests). */
  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** When the next run is due (ms since epoch), or Infinity. */
  nextRunAt(): number {
    return this.timerAt;
  }

  private scheduleAt(at: number): void {
    if (at >= this.timerAt) return;
    this.cancelTimer();
    this.timerAt = at;
    const fire = () => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.execute();
    };
    const delay = at - this.clock.now();
    // Due now (upstream's Run when the limiter allows, e.g. minSyncPeriod 0): run once the
    // caller's task is done, not through a zero-delay timer, which Node holds for >= 1 ms.
    // Requests in the same task still collapse into this one run.
    this.timer = delay <= 0 && this.clock.soon ? this.clock.soon(fire) : this.clock.setTimeout(fire, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private async execute(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.requestedDuringRun = false;
    this.lastRunStart = this.clock.now();
    this.runs++;
    try {
      await this.fn();
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
    if (this.stopped) return;
    this.scheduleAt(this.lastRunStart + this.opts.maxIntervalMs);
    if (this.requestedDuringRun) this.run();
  }
}
