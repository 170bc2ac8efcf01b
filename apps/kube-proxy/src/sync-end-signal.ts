import { type IPFamily, ProxierHealth } from '@nodeagent/kube-proxy';
import type { Clock } from '@nodeagent/primitives';

// The events the build's code-cache training (tools/sea/code-cache-training.ts) waits for on
// `process` before it writes kube-proxy's code cache; nothing listens at run time.

/** Start-up is over: every tracked family has synced once. */
export const STARTED_EVENT = 'nodeagent:started';
/** A burst of work ended: no proxier is syncing. */
export const BURST_ENDED_EVENT = 'nodeagent:burst-ended';

/** Emits one of the events above. */
export type SyncSignal = (event: string) => void;

const onProcess: SyncSignal = (event) => {
  (process as NodeJS.EventEmitter).emit(event);
};

/**
 * ProxierHealth that also says when a sync ended: once no proxier is syncing (`track`'s
 * whenIdle) and one more turn of the event loop, so that a listener's work never lengthens the
 * sync runner's run. Signals asked for while one is waiting are that one. Start-up ends
 * (STARTED_EVENT, before that sync's BURST_ENDED_EVENT) once every tracked family has synced.
 */
export class SyncEndSignallingHealth extends ProxierHealth {
  private whenIdle: () => Promise<unknown> = () => Promise.resolve();
  /** Families whose first sync start-up still waits for (undefined: not tracking, or started). */
  private awaiting: Set<IPFamily> | undefined;
  private waiting = false;

  constructor(
    healthTimeoutMs: number,
    clock?: Clock,
    private readonly signal: SyncSignal = onProcess,
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
