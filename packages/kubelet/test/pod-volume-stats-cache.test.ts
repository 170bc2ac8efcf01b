import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { DiskUsage } from '../src/stats/pod-stats-assembly';
import { PodVolumeStatsCache } from '../src/stats/pod-volume-stats-cache';

const MINUTE = 60_000;
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A cache over `pods` whose measurement of a pod counts its calls and reports that count as bytes. */
function harness(pods: string[], random = () => 0.5) {
  const clock = new FakeClock(Date.UTC(2026, 10, 27));
  const calls = new Map<string, number>();
  const cache = new PodVolumeStatsCache({
    periodMs: MINUTE,
    pods: () => pods,
    clock,
    random,
    measure: async (uid) => {
      const n = (calls.get(uid) ?? 0) + 1;
      calls.set(uid, n);
      return new Map<string, DiskUsage>([['data', { bytes: n, inodes: 1 }]]);
    },
  });
  return { clock, calls, cache };
}

describe("PodVolumeStatsCache (upstream's fsResourceAnalyzer, volumeStatsAggPeriod)", () => {
  it('measures a known pod at once, then after each jittered period; reads never measure', async () => {
    const { clock, calls, cache } = harness(['a']);
    expect(cache.get('a')).toBeUndefined();
    cache.start();
    await flush();
    expect(calls.get('a')).toBe(1);
    const first = cache.get('a');
    expect(first?.volumes.get('data')).toEqual({ bytes: 1, inodes: 1 });
    expect(first?.atMs).toBe(clock.now());
    cache.get('a');
    expect(calls.get('a')).toBe(1);
    // period × (1 + 0.5): not yet after one period, measured again after one and a half.
    clock.advance(MINUTE);
    await flush();
    expect(calls.get('a')).toBe(1);
    clock.advance(MINUTE / 2);
    await flush();
    expect(calls.get('a')).toBe(2);
    expect(cache.get('a')?.volumes.get('data')?.bytes).toBe(2);
    cache.stop();
  });

  it('takes up a new pod at the next period and drops a pod that is gone', async () => {
    const pods = ['a'];
    const { clock, calls, cache } = harness(pods);
    cache.start();
    await flush();
    pods.push('b');
    clock.advance(MINUTE / 2);
    await flush();
    // Upstream looks at the pods once a period: b has no stats yet.
    expect(cache.get('b')).toBeUndefined();
    clock.advance(MINUTE / 2);
    await flush();
    expect(calls.get('b')).toBe(1);
    expect(cache.get('b')).toBeDefined();
    pods.splice(0, 1);
    clock.advance(MINUTE);
    await flush();
    expect(cache.get('a')).toBeUndefined();
    const measuredA = calls.get('a');
    clock.advance(10 * MINUTE);
    await flush();
    expect(calls.get('a')).toBe(measuredA);
    cache.stop();
    const measuredB = calls.get('b');
    clock.advance(10 * MINUTE);
    await flush();
    expect(calls.get('b')).toBe(measuredB);
  });
});
