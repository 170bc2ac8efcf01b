import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuProfiles, parseProfileThreshold } from './cpu-profiles';
import type { LoopReport } from './loop-preload';

const dir = mkdtempSync(join(tmpdir(), 'na-soak-cpu-profiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (id: number, functionName: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url: functionName === 'relist' ? 'file:///kp/informer.js' : '', lineNumber: 9 },
  children,
});

/**
 * A profile starting at 1,000 ms (CLOCK_MONOTONIC, in µs as V8 writes it): idle, then `relist`
 * for 60 samples 1 ms apart from 1,010 ms on, then idle again.
 */
function profileWithRelist(path: string): void {
  const samples = [2, ...Array(60).fill(3), 2, 2];
  writeFileSync(
    path,
    JSON.stringify({
      nodes: [frame(1, '(root)', [2, 3]), frame(2, '(idle)'), frame(3, 'relist')],
      startTime: 1_000_000,
      endTime: 1_100_000,
      samples,
      timeDeltas: [10_000, ...Array(62).fill(1000)],
    }),
  );
}

const line = (at: number, maxMs: number, taskMaxMs: number, extra: Partial<LoopReport> = {}): LoopReport => ({
  at,
  p50Ms: 0.3,
  p99Ms: 2,
  maxMs,
  maxAt: at,
  maxOnCpuMs: taskMaxMs,
  maxRunQueueMs: 0,
  taskMaxMs,
  gcMaxMs: 1,
  gcCount: 1,
  gcTotalMs: 1,
  spaces: {},
  regularCommittedPeak: 0,
  external: 0,
  arrayBuffers: 0,
  ...extra,
});

describe("the soak's CPU profiles", () => {
  it("names what ran in the minute's longest delay and task, keeps those profiles in the results and deletes every other", () => {
    const agentDir = join(dir, 'agent');
    const results = mkdtempSync(join(dir, 'results-'));
    const profiles = new CpuProfiles(agentDir, 'kube-proxy', 50, results);
    expect(profiles.env()).toEqual({ NA_SOAK_CPU_PROFILE_DIR: agentDir, NA_SOAK_CPU_PROFILE_OVER_MS: '50' });
    const kept = join(agentDir, '1.cpuprofile');
    const other = join(agentDir, '2.cpuprofile');
    profileWithRelist(kept);
    profileWithRelist(other);
    const lines = [
      line(1, 3, 4),
      // The delay's gap (1,005–1,075 ms) holds the whole relist; the task's gap only its first 20 ms.
      line(2, 50, 61, { profile: kept, maxGapMonotonicMs: [1005, 1075], taskGapMonotonicMs: [1005, 1030] }),
      line(3, 40, 45, { profile: other, maxGapMonotonicMs: [1000, 1060], taskGapMonotonicMs: [1000, 1060] }),
    ];
    const found = profiles.take(lines, 53);
    expect(found?.delay?.onStack[0]).toEqual({ fn: 'relist informer.js:10', ms: expect.any(Number) });
    expect(found?.delay?.busyMs).toBeGreaterThanOrEqual(59);
    expect(found?.task?.busyMs).toBeGreaterThanOrEqual(19);
    expect(found?.task?.busyMs).toBeLessThanOrEqual(21);
    expect(readdirSync(results)).toEqual(['soak-kube-proxy-minute-53-2.cpuprofile']);
    expect(existsSync(kept) || existsSync(other)).toBe(false);
  });

  it('says nothing for a minute whose periods kept no profile', () => {
    const profiles = new CpuProfiles(join(dir, 'quiet'), 'kubelet', 50, mkdtempSync(join(dir, 'results-')));
    expect(profiles.take([line(1, 10, 12), line(2, 12, 9)], 4)).toBeUndefined();
    expect(profiles.take([], 5)).toBeUndefined();
  });

  it('takes a threshold of whole milliseconds only', () => {
    expect(parseProfileThreshold('40')).toBe(40);
    expect(parseProfileThreshold('0')).toBeUndefined();
    expect(parseProfileThreshold('2.5')).toBeUndefined();
    expect(parseProfileThreshold('')).toBeUndefined();
  });
});
