import { connect } from 'node:net';
import { goDialError, goDialTimeout } from '@nodeagent/primitives/go-text';
import { cancelledOutcome, onAbort } from './cancellation';
import type { ProbeRunOutcome } from './probe-types';

/**
 * Success when a TCP connection opens within the timeout; the socket is closed at once. A failure's
 * output is Go's net.Dial error, as upstream's event shows it (`dial tcp 10.0.0.1:80: connect:
 * connection refused`, `dial tcp 10.0.0.1:80: i/o timeout`).
 */
export function runTcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeRunOutcome> {
  if (signal?.aborted) return Promise.resolve(cancelledOutcome());
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const settle = (outcome: ProbeRunOutcome) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const unsubscribe = onAbort(signal, () => settle(cancelledOutcome()));
    // After a stalled event loop the timer fires in the same turn as a connect the kernel
    // finished long before; deferring past the poll phase lets that connect count.
    const timer = setTimeout(
      () => setImmediate(() => settle({ result: 'Failure', output: goDialTimeout(host, port) })),
      timeoutMs,
    );
    socket.once('connect', () => settle({ result: 'Success', output: '' }));
    socket.once('error', (err) => settle({ result: 'Failure', output: goDialError(err, host, port) }));
  });
}
