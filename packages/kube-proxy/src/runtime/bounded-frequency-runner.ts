import { type Clock, systemClock } from '@nodeagent/primitives';

/** Options of BoundedFrequencyRunner (upstream v1.36: pkg/proxy/runner.BoundedFrequencyRunner). */
export interface BoundedFrequencyRunnerOptions {
  /** A run starts at least this long after the previous one ended (upstream minSyncPeriod). */
  minIntervalMs: number;
  /** Without requests, a run starts this long after the previous one ended (upstream syncPeriod). */
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
 *
 * Both intervals count from the end of the previous run, as upstream v1.36's runner
 * (pkg/proxy/runner/bounded_frequency_runner.go: Loop resets its minInterval and next-run
 * timers after fn returns, then waits out minInterval): a sync that takes longer than
 * minSyncPeriod is still followed by minSyncPeriod of quiet, not by another sync at once.
 */
export class BoundedFrequencyRunner {
  private readonly clock: Clock;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastRunEnd = Number.NEGATIVE_INFINITY;
  private running = false;
  private requestedDuringRun = false;
  /** retryAfter() during a run: the soonest delay asked for, counted from the run's end. */
  private retryDuringRunMs = Number.POSITIVE_INFINITY;
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
    this.scheduleAt(Math.max(this.clock.now(), this.lastRunEnd + this.opts.minIntervalMs));
  }

  /**
   * Asks for a run after `ms` (e.g. after a failed sync), unless one is due sooner. Called
   * during a run (a sync that failed), the delay counts from that run's end, as upstream's
   * retryInterval after fn returns an error; a later successful run cancels it.
   */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.retryDuringRunMs = Math.min(this.retryDuringRunMs, ms);
      return;
    }
    this.scheduleAt(Math.max(this.clock.now() + ms, this.lastRunEnd + this.opts.minIntervalMs));
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

  /**
   * The timer's callback, made once: a closure made per schedule (each endpoint change makes
   * two) also cost the executable's bundle a `__name` property definition each (esbuild's
   * keepNames), on the way from a change's event to its sync (issue #54).
   */
  private readonly fire = this.onTimer.bind(this);

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    void this.execute();
  }

  private scheduleAt(at: number): void {
    if (at >= this.timerAt) return;
    this.cancelTimer();
    this.timerAt = at;
    const delay = at - this.clock.now();
    // Due now (upstream's Run when the limiter allows, e.g. minSyncPeriod 0): run once the
    // caller's task is done, not through a zero-delay timer, which Node holds for >= 1 ms.
    // Requests in the same task still collapse into this one run.
    this.timer =
      delay <= 0 && this.clock.soon ? this.clock.soon(this.fire) : this.clock.setTimeout(this.fire, delay);
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
    this.retryDuringRunMs = Number.POSITIVE_INFINITY;
    this.runs++;
    try {
      await this.fn();
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.running = false;
      this.lastRunEnd = this.clock.now();
      for (const w of this.idleWaiters.splice(0)) w();
    }
    if (this.stopped) return;
    const { minIntervalMs, maxIntervalMs } = this.opts;
    const next = Math.min(maxIntervalMs, this.retryDuringRunMs);
    this.scheduleAt(this.lastRunEnd + Math.max(minIntervalMs, next));
    if (this.requestedDuringRun) this.run();
  }
}
