/** What a service account token is minted for, and what the cache keys it by (upstream's keyFunc). */
export interface BoundTokenRequest {
  namespace: string;
  serviceAccountName: string;
  audiences: string[];
  expirationSeconds?: number;
  boundPod: { name: string; uid: string };
}

/** How often expired tokens are dropped (upstream token manager's gcPeriod). */
const SWEEP_PERIOD_MS = 60_000;

/**
 * Upstream's token manager cache: a minted token is reused until 80 % of its lifetime has passed,
 * so re-syncing a volume does not mint a new one every time. A pod's tokens are dropped when it
 * lets them go (upstream's DeleteServiceAccountToken at its volumes' teardown), and expired ones
 * at most a minute after they expire: with pods coming and going for months, each one's tokens
 * would otherwise stay.
 */
export class BoundTokenCache<T> {
  private readonly entries = new Map<
    string,
    { value: T; refreshAt: number; expiresAt: number; podUid: string }
  >();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The cached token for `request`, or the one `mint` makes (`expiresAt` in epoch ms; NaN: reuse never). */
  async get(request: BoundTokenRequest, mint: () => Promise<{ value: T; expiresAt: number }>): Promise<T> {
    const now = this.now();
    this.sweep(now);
    const key = JSON.stringify([
      request.namespace,
      request.serviceAccountName,
      request.audiences,
      request.expirationSeconds,
      request.boundPod.uid,
    ]);
    const hit = this.entries.get(key);
    if (hit && now < hit.refreshAt) return hit.value;
    const { value, expiresAt } = await mint();
    const lifetime = Number.isNaN(expiresAt) ? 0 : expiresAt - now;
    this.entries.set(key, {
      value,
      refreshAt: now + 0.8 * lifetime,
      expiresAt: now + lifetime,
      podUid: request.boundPod.uid,
    });
    return value;
  }

  /** The pod's tokens are no longer needed. */
  forgetPod(uid: string): void {
    for (const [key, entry] of this.entries) if (entry.podUid === uid) this.entries.delete(key);
  }

  /** How many tokens are held. */
  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_PERIOD_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (now >= entry.expiresAt) this.entries.delete(key);
  }
}
