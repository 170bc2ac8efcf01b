/** Upstream nestedpendingoperations: the first retry of a failed volume operation waits 500 ms. */
export const initialMountRetryMs = 500;
/** Upstream's cap on that wait: 2 min 2 s. */
export const maxMountRetryMs = 122_000;

interface Entry {
  lastErrorAt: number;
  durationMs: number;
  /** The last try found the volume not attached yet (no event; the pod's wait counts it unattached). */
  unattached: boolean;
}

/**
 * Upstream's exponential back-off of a failing volume mount (exponentialbackoff in
 * nestedpendingoperations): after a failure the mount is not tried again for 500 ms, then 1 s,
 * 2 s ... up to 2 min 2 s; each try that fails posts its FailedMount event, so the event's count
 * grows with that cadence. Keyed by pod uid and volume name.
 */
export class MountBackOff {
  private readonly entries = new Map<string, Entry>();

  /** How long before `key` may be tried again at `now` (0: now). */
  remainingMs(key: string, now: number): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.lastErrorAt + entry.durationMs - now) : 0;
  }

  /** Records a failed try at `now` (`unattached`: the volume was not attached yet): the next wait doubles, capped. */
  failed(key: string, now: number, unattached = false): void {
    const entry = this.entries.get(key);
    const durationMs = entry ? Math.min(entry.durationMs * 2, maxMountRetryMs) : initialMountRetryMs;
    this.entries.set(key, { lastErrorAt: now, durationMs, unattached });
  }

  /** Whether the last try of `key` failed because the volume was not attached yet. */
  unattached(key: string): boolean {
    return this.entries.get(key)?.unattached === true;
  }

  /** Forgets `key` (mounted, or its pod is gone). */
  succeeded(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key of pod `uid`. */
  forgetPod(uid: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${uid}/`)) this.entries.delete(key);
  }
}

/** The key of volume `name` of pod `uid`. */
export function mountKey(uid: string, name: string): string {
  return `${uid}/${name}`;
}
