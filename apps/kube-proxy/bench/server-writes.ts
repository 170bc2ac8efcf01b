import type { Server, Socket } from 'node:net';
import { monotonicNow } from './monotonic-clock';

/** What the in-process API server wrote to the connections a listener accepted. */
export interface ServerWrites {
  /** Bytes written so far. */
  bytes(): number;
  /** When the server first wrote at or after `at` (CLOCK_MONOTONIC ms; the newest 32 writes kept). */
  after(at: number): number | undefined;
}

/**
 * Counts and times the writes to every connection `listener` accepts from now on: when a
 * change's watch event left the API server for the daemon's socket (in the daemon's namespace:
 * the listener was bound there, so no relay stands between). Register it before handing the
 * listener to `ApiServer.serve`, so each socket is wrapped before the server writes to it. Plain
 * HTTP only: a TLS server writes to the socket's handle, below `write`.
 */
export function tapServerWrites(listener: Server): ServerWrites {
  let total = 0;
  const times: number[] = [];
  listener.on('connection', (socket: Socket) => {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      total += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      times.push(monotonicNow());
      if (times.length > 32) times.shift();
      return write(chunk, ...rest);
    }) as Socket['write'];
  });
  return { bytes: () => total, after: (at) => times.find((t) => t >= at) };
}
