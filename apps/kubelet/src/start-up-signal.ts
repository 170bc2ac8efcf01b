/**
 * What the single executable's memory trim (tools/sea/heap-trim.cjs, "Start-up") listens for on
 * `process`: between the two events it runs no check (no collection, no page release, no
 * eviction of the executable's page cache), and its checks start from the second one. Under
 * plain `node` nothing listens.
 */
const STARTING_EVENT = 'nodeagent:starting';
const STARTED_EVENT = 'nodeagent:started';

/** The kubelet's start-up begins (the command line is about to be read). */
export function signalStartUpBegins(): void {
  (process as NodeJS.EventEmitter).emit(STARTING_EVENT);
}

/** The kubelet's start-up is over ("kubelet started" logged). */
export function signalStartUpDone(): void {
  (process as NodeJS.EventEmitter).emit(STARTED_EVENT);
}
