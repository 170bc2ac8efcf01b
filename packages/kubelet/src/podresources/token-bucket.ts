import type { Clock } from '@nodeagent/primitives';

/**
 * golang.org/x/time/rate's Limiter.Allow as upstream's pod-resources server uses it: a bucket of
 * `burst` tokens refilled at `qps` a second, full at the start; a call takes one or is refused.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  allow(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
