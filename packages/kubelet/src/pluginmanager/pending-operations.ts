/**
 * Upstream's exponential backoff for a failed plugin operation
 * (pkg/util/goroutinemap/exponentialbackoff): 500 ms after the first failure, doubling, at most
 * 2 min 2 s.
 */
export const INITIAL_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 122_000;

interface Entry {
  running: boolean;
  failures: number;
  retryAt: number;
}

/**
 * At most one operation per socket at a time, and none before its backoff after a failure has
 * passed (upstream's goroutinemap with exponential backoff): the reconciler asks again every loop
 * and is turned away until then.
 */
export class PendingOperations {
  private readonly ops = new Map<string, Entry>();

  constructor(private readonly now: () => number) {}

  /** Run `op` for `key` unless one is running or backing off; resolves when it has finished. */
  run(key: string, op: () => Promise<void>, onError: (e: unknown) => void): boolean {
    const entry = this.ops.get(key);
    if (entry && (entry.running || this.now() < entry.retryAt)) return false;
    const e: Entry = entry ?? { running: false, failures: 0, retryAt: 0 };
    e.running = true;
    this.ops.set(key, e);
    void op().then(
      () => {
        this.ops.delete(key);
      },
      (err: unknown) => {
        e.running = false;
        e.failures++;
        e.retryAt = this.now() + Math.min(INITIAL_RETRY_DELAY_MS * 2 ** (e.failures - 1), MAX_RETRY_DELAY_MS);
        onError(err);
      },
    );
    return true;
  }

  /** Whether any operation is still running (for a clean stop). */
  get busy(): boolean {
    return [...this.ops.values()].some((e) => e.running);
  }
}
