/**
 * A token bucket as golang.org/x/time/rate's Limiter, which client-go's flowcontrol limiters wrap:
 * `burst` tokens at first, refilled at `qps` a second. tryTake answers at once (Allow: the event
 * spam filter, the pod-resources server); delayMs says how long until the next token (the event
 * and image-pull QPS limits).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last)
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = Math.max(this.last, now);
  }

  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  delayMs(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.qps) * 1000);
  }
}
