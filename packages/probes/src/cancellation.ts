import type { ProbeRunOutcome } from './probe-types';

/** What a probe returns when its container stopped mid-run; workers discard it anyway. */
export function cancelledOutcome(): ProbeRunOutcome {
  return { result: 'Unknown', output: 'probe cancelled' };
}

/** Runs `fn` once when `signal` aborts; returns the unsubscribe. No-op without a signal. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}
