/** What every in-process control-plane controller exposes besides its own API. */
export interface RunningController {
  /** Resolves when everything queued so far has been handled. */
  settled(): Promise<void>;
  /** True when nothing is queued. */
  idle(): boolean;
  /** Stops handling changes. */
  stop(): void;
}

/**
 * A controller's work queue: keys marked dirty by store events are handled once each, in a batch
 * after the write that announced them has returned to its caller (setImmediate), like a
 * workqueue draining behind an informer. A key whose handler throws (a racing write: 409, or the
 * object is gone) is retried on the next batch, at most `maxRetries` times in a row.
 */
export class ControllerQueue {
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly handle: (key: string) => void,
    private readonly maxRetries = 5,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.running ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.running = undefined;
        const batch = [...this.dirty];
        this.dirty.clear();
        for (const k of batch) {
          if (this.stopped) break;
          try {
            this.handle(k);
            this.failures.delete(k);
          } catch {
            const n = (this.failures.get(k) ?? 0) + 1;
            this.failures.set(k, n);
            if (n <= this.maxRetries) this.add(k);
            else this.failures.delete(k);
          }
        }
        resolve();
      });
    });
  }

  idle(): boolean {
    return this.running === undefined && this.dirty.size === 0;
  }

  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    this.dirty.clear();
  }
}
