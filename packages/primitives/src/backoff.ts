import { InvalidOptionError } from './errors';

/** An exponential backoff's first and largest delay, jitter and when it resets. */
export interface BackoffOptions {
  /** First delay. Default 800 ms (client-go's reflector default). */
  initialMs?: number;
  /** Cap on the delay. Default 30 s. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Extra random fraction added to each delay (0..jitter). Default 1.0, like client-go; 0 for none. */
  jitter?: number;
  /** After this long without a failure the delay starts from `initialMs` again. Default 2 min. */
  resetAfterMs?: number;
  /** Time source for `resetAfterMs`. Default Date.now. */
  now?: () => number;
  /** Uniform [0, 1) source for the jitter. Default Math.random. */
  random?: () => number;
}

/** Exponential backoff with a cap, optional jitter and an idle reset; time and randomness injected. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly resetAfterMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private current = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 1;
    this.resetAfterMs = options.resetAfterMs ?? 120_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0))
      throw new InvalidOptionError('backoff.initialMs', this.initialMs, 'must be > 0');
    if (!(this.maxMs >= this.initialMs))
      throw new InvalidOptionError('backoff.maxMs', this.maxMs, 'must be >= initialMs');
    if (!(this.factor >= 1)) throw new InvalidOptionError('backoff.factor', this.factor, 'must be >= 1');
    if (!(this.jitter >= 0)) throw new InvalidOptionError('backoff.jitter', this.jitter, 'must be >= 0');
  }

  /** Delay before the next attempt after a failure: initialMs, then grown by `factor`, capped. */
  next(): number {
    const t = this.now();
    if (t - this.lastFailureAt > this.resetAfterMs) this.current = 0;
    this.lastFailureAt = t;
    this.current = this.current === 0 ? this.initialMs : Math.min(this.maxMs, this.current * this.factor);
    return Math.min(this.maxMs, this.current * (1 + this.jitter * this.random()));
  }

  /** A success: the next failure starts from the initial delay. */
  reset(): void {
    this.current = 0;
  }
}
