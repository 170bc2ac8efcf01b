/**
 * The event the build's code-cache training (tools/sea/code-cache-training.ts) waits for on
 * `process` before it writes the kubelet's code cache. Nothing listens at run time.
 */
const STARTED_EVENT = 'nodeagent:started';

/** The kubelet's start-up is over ("kubelet started" logged). */
export function signalStartUpDone(): void {
  (process as NodeJS.EventEmitter).emit(STARTED_EVENT);
}
