import { InvalidOptionError } from './errors';

/** A slice's length and the clocks EventLoopSlices reads (injected by tests). */
export interface EventLoopSlicesOptions {
  /** How long synchronous work runs before the event loop gets a turn, in ms (default 8; 0: a turn at every check). */
  sliceMs?: number;
  /** A monotonic clock in ms (default `performance.now()`). */
  now?: () => number;
  /** The process's CPU time, user and system, in ms (default from `process.cpuUsage()`). */
  cpuMs?: () => number;
}

const DEFAULT_SLICE_MS = 8;

const processCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * Hands the event loop back once a stretch of synchronous work has run `sliceMs`: long work
 * checks often, and no task runs much past the slice whatever a step costs, while short work
 * never pays for a turn. The wall and CPU time spent in the turns are summed, so that the
 * work's own figures can leave out what ran meanwhile.
 *
 * A hot loop checks `spent()` (one clock read, no await) and awaits `turn()` only when it is
 * true; a loop whose steps are few awaits `next()`, which does both.
 */
export class EventLoopSlices {
  private readonly sliceMs: number;
  private readonly now: () => number;
  private readonly cpuMs: () => number;
  private started: number;
  private wallPaused = 0;
  private cpuPaused = 0;

  /**
   * Throws InvalidOptionError naming `option` unless `sliceMs` is undefined (the default) or a
   * number of ms, 0 or more: a caller checks its own option when it is made, not at first use.
   */
  static checkSliceMs(sliceMs: unknown, option = 'sliceMs'): void {
    if (sliceMs === undefined) return;
    if (typeof sliceMs !== 'number' || Number.isNaN(sliceMs) || sliceMs < 0)
      throw new InvalidOptionError(option, sliceMs, 'must be a number of milliseconds, 0 or more');
  }

  constructor(options: EventLoopSlicesOptions = {}) {
    EventLoopSlices.checkSliceMs(options.sliceMs);
    this.sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
    this.now = options.now ?? (() => performance.now());
    this.cpuMs = options.cpuMs ?? processCpuMs;
    // The first slice counts from here.
    this.started = this.now();
  }

  /** True once the current slice has run `sliceMs`. */
  spent(): boolean {
    return this.now() - this.started >= this.sliceMs;
  }

  /** One turn of the event loop (setImmediate: timers and I/O run), then a new slice. */
  async turn(): Promise<void> {
    const wall = this.now();
    const cpu = this.cpuMs();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.cpuPaused += this.cpuMs() - cpu;
    this.started = this.now();
    this.wallPaused += this.started - wall;
  }

  /** Resolves at once while the slice lasts; once it is spent, after a turn of the event loop. */
  async next(): Promise<void> {
    if (this.spent()) await this.turn();
  }

  /** Wall time spent in the turns so far (ms). */
  get pausedMs(): number {
    return this.wallPaused;
  }

  /** This process's CPU time spent in the turns so far (ms): what other work took meanwhile. */
  get pausedCpuMs(): number {
    return this.cpuPaused;
  }
}
