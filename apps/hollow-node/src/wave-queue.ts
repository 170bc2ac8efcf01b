import type { RestartWaveReport } from './restart-waves';

/**
 * Restart waves one at a time: the timer's (every `everyMs`, counted from the previous wave's
 * end, so waves never overlap however long one takes) and run()'s queue behind each other, and
 * stop() waits for the one under way.
 */
export class WaveQueue {
  private last: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly wave: () => Promise<RestartWaveReport>,
    everyMs: number | undefined,
    private readonly onError: (error: unknown) => void,
  ) {
    if (everyMs !== undefined) this.schedule(everyMs);
  }

  /** Runs one wave after any under way. */
  run(): Promise<RestartWaveReport> {
    const running = this.last.then(() => this.wave());
    this.last = running.catch(() => undefined);
    return running;
  }

  /** No further wave starts; resolves when the one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.last;
  }

  private schedule(everyMs: number): void {
    this.timer = setTimeout(async () => {
      await this.run().catch(this.onError);
      if (!this.stopped) this.schedule(everyMs);
    }, everyMs);
  }
}
