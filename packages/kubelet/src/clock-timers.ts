import type { Clock } from '@nodeagent/primitives';

/**
 * Timers on the injected Clock, so a FakeClock drives every wait and period of the kubelet (a
 * Clock has setTimeout and clearTimeout only: sleeps and periods are built from them here).
 */

/** Resolves after `ms` on the clock. */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * Lets the process exit while this timer waits. The system clock's handle is a Node timer; a
 * fake clock's handle has no unref and needs none.
 */
export function unrefTimer(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Calls `fn` every `periodMs` on the clock until the returned stop is called: the next period is
 * armed before `fn` runs, as setInterval does. The timers do not keep the process alive.
 */
export function everyOn(clock: Clock, periodMs: number, fn: () => void): () => void {
  let stopped = false;
  let handle: unknown;
  const arm = () => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, periodMs);
    unrefTimer(handle);
  };
  arm();
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}
