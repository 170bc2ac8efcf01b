/**
 * Hands the event loop back once a stretch of synchronous work has run `sliceMs`: a full sync's
 * steps call `next()` often (it resolves at once inside the slice), so no task runs much past
 * the slice whatever a step costs, and a small sync never pays for a turn of the loop.
 */
export class EventLoopSlices {
  private started = performance.now();

  constructor(private readonly sliceMs = 8) {}

  /** Resolves at once while the slice lasts; after it, on the next turn of the event loop. */
  async next(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
