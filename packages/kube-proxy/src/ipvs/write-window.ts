/**
 * Bounds how many kernel writes a sync has outstanding. Writing every virtual server of a
 * 250k-real-server sync at once queued 250k requests (each with its promise, its encoded
 * message and its callbacks) before the first went out: all of it lived long enough to be
 * promoted, and garbage collection became most of the sync (host, null transport, 5k Services
 * x 50: 2.0-2.4 CPU-s against 0.8-0.9 with about 400 writes outstanding). A few hundred
 * outstanding writes still fill the IPVS handle's pipeline (two 128-message batches in flight).
 *
 * Tasks are admitted while the outstanding weight is under the limit (one task always runs, however
 * heavy). One caller feeds it, awaiting each `run` (there is one waiter at a time). After a
 * failure no new task starts; `drain()` waits for every started task and then rejects with the
 * first failure, so nothing is still in flight when the caller reports it.
 */
export class WriteWindow {
  private outstanding = 0;
  private running = 0;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly limit: number) {}

  /** Starts `task` (about `weight` writes) once the window has room; false after a failure. */
  async run(weight: number, task: () => Promise<void>): Promise<boolean> {
    while (this.running > 0 && this.outstanding + weight > this.limit && !this.failure) await this.finished();
    if (this.failure) return false;
    this.outstanding += weight;
    this.running++;
    task().then(
      () => this.finish(weight),
      (error: unknown) => {
        this.failure ??= { error };
        this.finish(weight);
      },
    );
    return true;
  }

  /** Waits for every started task; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.running > 0) await this.finished();
    if (this.failure) throw this.failure.error;
  }

  private finished(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private finish(weight: number): void {
    this.outstanding -= weight;
    this.running--;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
