import { type IPFamily, ProxierHealth } from '@nodeagent/kube-proxy';

/**
 * The event the single executable's memory trim (tools/sea/heap-trim.cjs) answers at once: a
 * burst of work ended, give back what it freed (a collection when the heap grew well above
 * its live size, malloc_trim, the runtime's file pages). Emitted on `process`; nothing listens
 * when the app runs under plain `node`.
 */
export const BURST_ENDED_EVENT = 'nodeagent:burst-ended';

/**
 * ProxierHealth that also signals the end of every successful sync: a full sync at 1k Services
 * leaves ~12 MiB of garbage heap and ~10 MiB of freed malloc memory behind, which would
 * otherwise stay resident until the next periodic check.
 */
export class SyncEndSignallingHealth extends ProxierHealth {
  override updated(family: IPFamily): void {
    super.updated(family);
    (process as NodeJS.EventEmitter).emit(BURST_ENDED_EVENT);
  }
}
