import { connect } from 'node:net';
import { cancelledOutcome, onAbort } from './cancellation';
import { errorText } from './exec-probe';
import type { ProbeRunOutcome } from './probe-types';

/** Success when a TCP connection opens within the timeout; the socket is closed at once. */
export function runTcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeRunOutcome> {
  if (signal?.aborted) return Promise.resolve(cancelledOutcome());
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const unsubscribe = onAbort(signal, () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(cancelledOutcome());
    });
    const timer = setTimeout(() => {
      unsubscribe();
      socket.destroy();
      resolve({
        result: 'Failure',
        output: `dial tcp ${hostPort(host, port)}: i/o timeout after ${timeoutMs}ms`,
      });
    }, timeoutMs);
    socket.once('connect', () => {
      unsubscribe();
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'Success', output: '' });
    });
    socket.once('error', (err) => {
      unsubscribe();
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'Failure', output: `dial tcp ${hostPort(host, port)}: ${errorText(err)}` });
    });
  });
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
