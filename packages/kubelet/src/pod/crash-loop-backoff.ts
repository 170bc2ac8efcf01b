import { type Clock, systemClock } from '@nodeagent/primitives';

/** The delays a {@link CrashLoopBackOff} uses; omitted ones are upstream's. */
export interface BackOffOptions {
  /** First delay; upstream 10 s. */
  initialMs?: number;
  /** Cap; upstream 300 s (MaxContainerBackOff). */
  maxMs?: number;
  /**
   * How long after the last update a failure starts again at the initial delay; upstream's
   * flowcontrol default is twice the cap (the kubelet's crash-loop back-off fixes it at 600 s).
   */
  expireAfterMs?: number;
  /** The clock delays are measured on (default: the system clock). */
  clock?: Clock;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/**
 * {@link CrashLoopBackOff.check}'s answer: restart now, or wait `remainingMs` more of the
 * current `backoffMs` delay (both in milliseconds).
 */
export type BackOffDecision =
  | { inBackOff: false }
  | { inBackOff: true; backoffMs: number; remainingMs: number };

/**
 * Per-key exponential backoff with upstream flowcontrol.Backoff semantics (no jitter, as the
 * kubelet's), used for CrashLoopBackOff (key: pod uid + container name + spec hash) and image
 * pull backoff. A restart is checked against the time the last instance failed (its finishedAt):
 * the first restart is immediate, then 10 s, 20 s, 40 s ... up to 5 min after the failure. Each
 * allowed restart arms the next delay and is remembered as the entry's last update; a failure
 * more than the expiry (10 min) after that update — a container that ran for 10 minutes — starts
 * again at the initial delay.
 */
export class CrashLoopBackOff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly expireAfterMs: number;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();

  constructor(options: BackOffOptions = {}) {
    this.initialMs = options.initialMs ?? 10_000;
    this.maxMs = options.maxMs ?? 300_000;
    this.expireAfterMs = options.expireAfterMs ?? 2 * this.maxMs;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Called before restarting a container that failed at `failedAt`. Either the restart must wait
   * (inBackOff), or it may go ahead and the next delay is armed.
   */
  check(key: string, failedAt: number): BackOffDecision {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    if (entry && !this.expired(entry, failedAt) && now - failedAt < entry.backoffMs) {
      return { inBackOff: true, backoffMs: entry.backoffMs, remainingMs: entry.backoffMs - (now - failedAt) };
    }
    this.next(key, failedAt);
    return { inBackOff: false };
  }

  /** Is `key` waiting out a delay for a failure at `failedAt`? (no state change) */
  isInBackOffSince(key: string, failedAt: number): boolean {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    return entry !== undefined && !this.expired(entry, failedAt) && now - failedAt < entry.backoffMs;
  }

  /** Is `key` still waiting out the delay armed at its last failure? (image pulls; no state change) */
  isInBackOffSinceUpdate(key: string): boolean {
    const now = this.clock.now();
    const entry = this.entries.get(key);
    return entry !== undefined && !this.expired(entry, now) && now - entry.lastUpdate < entry.backoffMs;
  }

  /** The delay currently armed for `key` (0 if none). */
  get(key: string): number {
    const entry = this.entries.get(key);
    return entry && !this.expired(entry, this.clock.now()) ? entry.backoffMs : 0;
  }

  /**
   * Records a failure at `at` (upstream Backoff.Next): doubles the delay, or starts again at the
   * initial one when `at` is long after the last update; the update time is now.
   */
  next(key: string, at: number): void {
    const entry = this.entries.get(key);
    const now = this.clock.now();
    if (!entry || this.expired(entry, at)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: now });
      return;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxMs);
    entry.lastUpdate = now;
  }

  /** Forgets `key`: its next failure starts again at the initial delay. */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops entries nobody touched for the expiry (twice the maximum delay by default). */
  gc(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Upstream hasExpired: `at` (a failure, or now) more than the expiry after the last update. */
  private expired(entry: Entry, at: number): boolean {
    return at - entry.lastUpdate > this.expireAfterMs;
  }
}

/** The backoff key upstream uses for a container: stable across restarts, new when the spec changes. */
export function containerBackOffKey(
  podUid: string,
  podName: string,
  podNamespace: string,
  containerName: string,
  hash: string,
): string {
  return `${podName}_${podNamespace}_${podUid}_${containerName}_${hash}`;
}
