import { type IPFamily, ProxierHealth } from '@nodeagent/kube-proxy';
import type { Clock } from '@nodeagent/primitives';

// The events the single executable's memory trim (tools/sea/heap-trim.cjs) answers, emitted on
// `process`; nothing listens when the app runs under plain `node`.

/** Start-up begins: the trim makes no check (no collection, no page release) until STARTED_EVENT. */
export const STARTING_EVENT = 'nodeagent:starting';
/** Start-up is over: the trim's checks start from here (the first one collects what start-up left). */
export const STARTED_EVENT = 'nodeagent:started';
/** A burst of work ended: the trim checks at once (a collection when the heap grew well above its live size). */
export const BURST_ENDED_EVENT = 'nodeagent:burst-ended';

/** Emits one of the events above. */
export type TrimSignal = (event: string) => void;

const onProcess: TrimSignal = (event) => {
  (process as NodeJS.EventEmitter).emit(event);
};

/**
 * Tells the trim that the daemon starts: its checks wait for the first syncs. Left alone, its
 * first collection came at the end of the first family's sync (the empty IPv6 one at 5,000
 * Services × 50 endpoints, dual-stack) while IPv4's was still running: a memory-reducing
 * collection of the half-built heap, 1.4 s of the main thread inside the start (issue #54).
 */
export function signalStarting(signal: TrimSignal = onProcess): void {
  signal(STARTING_EVENT);
}

/**
 * ProxierHealth that also tells the trim when a sync ended: a full sync at 1k Services leaves
 * ~12 MiB of garbage heap and ~10 MiB of freed malloc memory behind, which would otherwise stay
 * resident until the next periodic check.
 *
 * The signal waits until no proxier is syncing (`track`'s whenIdle) and then one more turn of
 * the event loop: the trim's collection runs synchronously in the signal, and inside a sync it
 * lengthened the sync runner's run, whose minSyncPeriod counts from the run's end (upstream's
 * BoundedFrequencyRunner). A 0.6-0.95 s memory-reducing collection after a one-endpoint sync
 * (5,000 × 50, 170 MB heap) then made the next change wait out most of a second of
 * minSyncPeriod; after the run, the collection falls in the quiet period minSyncPeriod imposes
 * anyway. Signals asked for while one is waiting are that one.
 *
 * Start-up ends (STARTED_EVENT, before that sync's BURST_ENDED_EVENT) once every tracked family
 * has synced: the trim's first check then makes its memory-reducing collection right after the
 * first syncs, a deliberate point to give back what the lists and the first full sync left
 * (~400 MB heap after a 5,000 × 50 sync, ~170 MB live), in the minSyncPeriod after it.
 */
export class SyncEndSignallingHealth extends ProxierHealth {
  private whenIdle: () => Promise<unknown> = () => Promise.resolve();
  /** Families whose first sync start-up still waits for (undefined: not tracking, or started). */
  private awaiting: Set<IPFamily> | undefined;
  private waiting = false;

  constructor(
    healthTimeoutMs: number,
    clock?: Clock,
    private readonly signal: TrimSignal = onProcess,
  ) {
    super(healthTimeoutMs, clock);
  }

  /**
   * The proxiers to wait for: `whenIdle` resolves once none of them is syncing; start-up is over
   * when each of `families` has synced once.
   */
  track(families: readonly IPFamily[], whenIdle: () => Promise<unknown>): void {
    this.awaiting = new Set(families);
    this.whenIdle = whenIdle;
  }

  override updated(family: IPFamily): void {
    super.updated(family);
    this.awaiting?.delete(family);
    if (this.waiting) return;
    this.waiting = true;
    const after = () => setImmediate(() => this.signalEnd());
    this.whenIdle().then(after, after);
  }

  private signalEnd(): void {
    this.waiting = false;
    if (this.awaiting?.size === 0) {
      this.awaiting = undefined;
      this.signal(STARTED_EVENT);
    }
    this.signal(BURST_ENDED_EVENT);
  }
}
