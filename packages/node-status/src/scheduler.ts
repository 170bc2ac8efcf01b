import type { Clock } from '@nodeagent/primitives';

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

  /** Wakes every sleeper with false and makes later sleeps return false at once. */
  stop(): void {
    this.stopped = true;
    for (const [handle, wake] of this.pending) {
      this.clock.clearTimeout(handle);
      wake();
    }
    this.pending.clear();
  }
}
