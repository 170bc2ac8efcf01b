import { type Clock, systemClock } from './clock';

/** A start {@link keepTrying} repeats until it succeeds. */
export interface KeepTrying<T> {
  /**
   * No more attempts. Resolves once an attempt in flight has settled, with the value of the one
   * that succeeded (so the caller can close what it opened), or undefined.
   */
  stop(): Promise<T | undefined>;
}

/** How {@link keepTrying} repeats. */
export interface KeepTryingOptions {
  /** The wait after a failed attempt (upstream's servers: 5 s). */
  intervalMs: number;
  /** Each failure, as it happens (not called once stopped). */
  onError: (error: unknown) => void;
  /** Whose timers space the attempts (tests pass a FakeClock). */
  clock?: Clock;
}

/**
 * Upstream's wait.Until around a start that fails fast, such as a listener whose port is taken:
 * `start` now, and again `intervalMs` after each failure, until one succeeds or stop() is called.
 * The daemon runs on meanwhile, as upstream's kubelet does without its healthz port.
 */
export function keepTrying<T>(start: () => Promise<T>, options: KeepTryingOptions): KeepTrying<T> {
  const clock = options.clock ?? systemClock;
  let stopped = false;
  let timer: unknown;
  let value: T | undefined;
  let attempt: Promise<void>;
  const tryNow = () => {
    attempt = Promise.resolve()
      .then(start)
      .then(
        (started) => {
          value = started;
        },
        (error: unknown) => {
          if (stopped) return;
          options.onError(error);
          timer = clock.setTimeout(tryNow, options.intervalMs);
        },
      );
  };
  tryNow();
  return {
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await attempt;
      return value;
    },
  };
}
