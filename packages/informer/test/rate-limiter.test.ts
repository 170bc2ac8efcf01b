import type { V1Pod } from '@kubernetes/client-node';
import { startApiServer } from '@nodeagent/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  KubeListerWatcher,
  rateLimitedKubeConfig,
  TokenBucketRateLimiter,
  type Wire,
} from '../src/index';

/** A manual clock: sleeping advances it, so waits are measured, not raced. */
function manualClock() {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    slept,
  };
}

describe('TokenBucketRateLimiter (client-go qps/burst)', () => {
  it('lets a burst through at once, then spaces requests 1/qps apart', async () => {
    const clock = manualClock();
    const limiter = new TokenBucketRateLimiter({ qps: 5, burst: 10, ...clock });
    for (let i = 0; i < 10; i++) await limiter.wait();
    expect(clock.slept).toEqual([]);
    await limiter.wait();
    await limiter.wait();
    expect(clock.slept.map((ms) => Math.round(ms))).toEqual([200, 200]);
  });

  it('refills at qps up to burst while idle', async () => {
    const clock = manualClock();
    const limiter = new TokenBucketRateLimiter({ qps: 2, burst: 3, ...clock });
    for (let i = 0; i < 3; i++) expect(limiter.reserve()).toBe(0);
    clock.advance(60_000); // a minute idle refills only to burst
    for (let i = 0; i < 3; i++) expect(limiter.reserve()).toBe(0);
    expect(limiter.reserve()).toBe(500);
  });

  it('rejects a non-positive qps or burst by name', () => {
    expect(() => new TokenBucketRateLimiter({ qps: 0, burst: 1 })).toThrow(InvalidOptionError);
    expect(() => new TokenBucketRateLimiter({ qps: 1, burst: 0 })).toThrow(/burst/);
  });

  it('every list and watch request through a rate-limited KubeConfig takes a token', async () => {
    const server = await startApiServer();
    try {
      const clock = manualClock();
      const limiter = new TokenBucketRateLimiter({ qps: 1, burst: 2, ...clock });
      const lw = new KubeListerWatcher<Wire<V1Pod>>(rateLimitedKubeConfig(server.kubeConfig(), limiter), {
        apiVersion: 'v1',
        plural: 'pods',
      });
      for (let i = 0; i < 4; i++) await lw.list({}, AbortSignal.timeout(10_000));
      // Two from the bucket, then one per second.
      expect(clock.slept.map((ms) => Math.round(ms))).toEqual([1000, 1000]);
      const watchDone = new AbortController();
      await lw.watch(
        { resourceVersion: '', timeoutSeconds: 1, inactivityTimeoutMs: 30_000, allowWatchBookmarks: false },
        () => undefined,
        watchDone.signal,
      );
      expect(clock.slept).toHaveLength(3);
    } finally {
      await server.close();
    }
  });
});
