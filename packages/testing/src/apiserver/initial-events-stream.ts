import { type ApiResponse, writeBody } from './http-exchange';
import type { KubeObject } from './kube-object';

/** Bytes of event lines handed to the socket at once while sending a watch's initial state. */
export const INITIAL_CHUNK_BYTES = 64 * 1024;

/** What streamInitialEvents reports, for tests and the scale bench. */
export interface InitialEventsSent {
  events: number;
  /** Characters written (bytes, for JSON that is ASCII; protobuf frames' bytes). */
  bytes: number;
  /** Writes made (one per chunk). */
  chunks: number;
  /** Times it gave the event loop back between chunks (a 'drain' waited for, or a setImmediate). */
  yields: number;
}

function drained(res: ApiResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Sends a watch's initial state as its event lines, a chunk of about 64 kB at a time, and gives
 * the event loop back between chunks: it waits for the socket to drain when the client reads
 * slower than it is written, else for the next turn. As the real apiserver's watch cache streams
 * a watch-list (each event encoded as it is sent), an object is encoded only when its chunk is
 * written, so a 44,000-Service stream neither builds the whole state before sending it nor
 * holds the server's other requests (and its own clients' reads) until it is done; the state
 * buffered is one chunk plus the socket's.
 *
 * `objects` is the snapshot to send (references; nothing is copied); `include` filters it as it
 * goes; `line` encodes one object's event (a JSON line, or a protobuf frame). Stops early, returning what it sent, when `stop()`
 * says so (the client went away, the watch was stalled or closed).
 */
export async function streamInitialEvents(
  res: ApiResponse,
  objects: readonly KubeObject[],
  include: (o: KubeObject) => boolean,
  line: (o: KubeObject) => string | Uint8Array,
  stop: () => boolean,
): Promise<InitialEventsSent> {
  const sent: InitialEventsSent = { events: 0, bytes: 0, chunks: 0, yields: 0 };
  let i = 0;
  while (i < objects.length) {
    if (stop()) return sent;
    const batch: (string | Uint8Array)[] = [];
    let bytes = 0;
    for (; i < objects.length && bytes < INITIAL_CHUNK_BYTES; i++) {
      const o = objects[i] as KubeObject;
      if (!include(o)) continue;
      const text = line(o);
      batch.push(text);
      bytes += text.length;
    }
    if (batch.length === 0) continue;
    const flowing = writeBody(
      res,
      typeof batch[0] === 'string' ? batch.join('') : Buffer.concat(batch as Uint8Array[], bytes),
    );
    sent.events += batch.length;
    sent.bytes += bytes;
    sent.chunks++;
    if (i >= objects.length) break;
    sent.yields++;
    await (flowing ? nextTurn() : drained(res));
  }
  return sent;
}
