import { formatDuration } from '@nodeagent/primitives';
import type { ReadyCheck } from './health-checks';

// Ready inputs the kubelet uses, with its own wording, so NotReady messages read like upstream's.

/** Runtime reachable: `ping` rejects (or resolves false) when the CRI runtime does not answer. */
export function runtimeReachableCheck(ping: () => Promise<unknown>): ReadyCheck {
  return {
    name: 'runtime',
    check: async () => {
      try {
        return (await ping()) === false ? 'container runtime is down' : undefined;
      } catch (err) {
        return `container runtime is down: ${err instanceof Error ? err.message : String(err)}`;
      }
    },
  };
}

/** PLEG healthy: the last relist must be within `thresholdMs` (upstream: 3 minutes). */
export function plegHealthCheck(
  lastRelistAt: () => number | undefined,
  opts: { thresholdMs?: number; now?: () => number } = {},
): ReadyCheck {
  const threshold = opts.thresholdMs ?? 3 * 60_000;
  const now = opts.now ?? Date.now;
  return {
    name: 'pleg',
    check: () => {
      const last = lastRelistAt();
      if (last === undefined) return 'PLEG is not healthy: pleg has yet to be successful';
      const ago = now() - last;
      if (ago <= threshold) return undefined;
      return `PLEG is not healthy: pleg was last seen active ${formatDuration(ago)} ago; threshold is ${formatDuration(threshold)}`;
    },
  };
}

/** Network ready: the runtime's NetworkReady condition (CRI Status), worded like the kubelet. */
export function networkReadyCheck(
  status: () => Promise<{ ready: boolean; reason?: string; message?: string }>,
): ReadyCheck {
  return {
    name: 'network',
    check: async () => {
      const s = await status();
      if (s.ready) return undefined;
      return `container runtime network not ready: NetworkReady=false reason:${s.reason ?? ''} message:${s.message ?? ''}`;
    },
  };
}
