import { describe, expect, it } from 'vitest';
import { machineStealMs } from '../bench/machine-steal';
import { monotonicNow } from '../bench/monotonic-clock';
import { swapScripts } from '../bench/scale-change-floor';
import { StageLog, summarizeParts } from '../bench/scale-stages';

// The scale bench's one-change breakdown (issue #54): the daemon's debug lines and GC entries
// matched to a change, and the change floor's scripts built from the daemon's last diff.

const CHANGE = `delete element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 }
delete element ip kube-proxy endpoint-hairpin { 10.244.0.7 . 10.244.0.7 }
add element ip kube-proxy endpoint-hairpin { 10.250.0.7 . 10.250.0.7 }
add element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 : 10.250.0.7 . 8080 }
`;

describe('scale bench change floor', () => {
  it('swaps the change address with a spare one and back, in the same maps and sets', () => {
    const { forward, back } = swapScripts(CHANGE, '10.250.0.7');
    expect(forward.split('\n').filter(Boolean)).toEqual([
      'delete element ip kube-proxy endpoint-hairpin { 10.250.0.7 . 10.250.0.7 }',
      'add element ip kube-proxy endpoint-hairpin { 10.127.254.1 . 10.127.254.1 }',
      'delete element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 }',
      'add element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 : 10.127.254.1 . 8080 }',
    ]);
    expect(back.split('\n').filter(Boolean)).toEqual([
      'delete element ip kube-proxy endpoint-hairpin { 10.127.254.1 . 10.127.254.1 }',
      'add element ip kube-proxy endpoint-hairpin { 10.250.0.7 . 10.250.0.7 }',
      'delete element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 }',
      'add element ip kube-proxy service-cluster-endpoints { 10.96.0.7 . tcp . 80 . 0 : 10.250.0.7 . 8080 }',
    ]);
  });
});

describe('scale bench stage log', () => {
  const sync = (startAt: number, trackedAt: number) =>
    JSON.stringify({
      msg: 'synced nftables rules',
      kind: 'partial',
      operations: 4,
      trackedAt,
      startAt,
      stages: { snapshot: 0.1, update: 0.4, kernel: 0.5, total: 1 },
      script: CHANGE,
    });

  it('reads lines split over chunks and splits a change at the first sync after its write', () => {
    const log = new StageLog();
    const text = [
      '{"msg":"kube-proxy started"}',
      sync(900, 899),
      JSON.stringify({ gc: 'minor', at: 1001, ms: 2 }),
      JSON.stringify({ gc: 'major', at: 1020, ms: 50 }),
      sync(1004, 1003.5),
      'not json',
      '',
    ].join('\n');
    log.push(text.slice(0, 70));
    log.push(text.slice(70));
    expect(log.syncs).toHaveLength(2);
    expect(log.lastScript()).toBe(CHANGE);
    const parts = log.parts({
      writtenAt: 1000,
      stampMs: 1010,
      seenAt: 1060,
      sentAt: 1002,
    });
    expect(parts).toMatchObject({
      total: 10,
      writeToTracked: 3.5,
      trackedToStart: 0.5,
      'hop.writeToSent': 2,
      'hop.sentToTracked': 1.5,
      'sync.update': 0.4,
      detectionAfterStamp: 50,
      // Only the minor collection falls inside the write → stamp window.
      gcInside: 2,
      gcMajors: 0,
    });
  });
});

describe('scale bench run-queue waits', () => {
  it("puts the bench's and the daemon's waits beside a change's parts", () => {
    const parts = new StageLog().parts({
      writtenAt: 1000,
      stampMs: 1010,
      seenAt: 1060,
      benchWaitMs: 0.25,
      daemonWaitMs: 4,
      machineStealMs: 10,
    });
    expect(parts).toMatchObject({
      total: 10,
      'wait.benchWrite': 0.25,
      'wait.daemonToSeen': 4,
      'steal.machineToSeen': 10,
    });
  });

  it("takes the daemon's wait up to the stamp from its sync line, and the change less both waits", () => {
    const log = new StageLog();
    log.push(
      `${JSON.stringify({
        msg: 'synced nftables rules',
        kind: 'partial',
        operations: 4,
        trackedAt: 1003,
        startAt: 1004,
        stages: { kernel: 0.5, total: 1 },
        runQueueWaitMs: 503.5,
      })}\n`,
    );
    const parts = log.parts({
      writtenAt: 1000,
      stampMs: 1010,
      seenAt: 1060,
      benchWaitMs: 0.5,
      daemonWaitAtWrite: 500,
    });
    expect(parts['wait.daemonToStamp']).toBe(3.5);
    expect(parts.totalLessWaits).toBe(6);
  });
});

describe('scale bench change times for a system-wide trace', () => {
  it("gives each change's write on CLOCK_MONOTONIC, the clock a perf record can be told to use", () => {
    const before = monotonicNow() / 1000;
    const writtenAt = monotonicNow();
    const after = monotonicNow() / 1000;
    const later = writtenAt + 1500;
    const summary = summarizeParts(new StageLog(), [
      { writtenAt, stampMs: writtenAt + 2, seenAt: writtenAt + 50 },
      { writtenAt: later, stampMs: later + 2, seenAt: later + 50 },
    ]);
    const [first, second] = summary.writtenMonotonicS as number[];
    // Rounded to the µs, so allow a µs either side.
    expect(first).toBeGreaterThanOrEqual(before - 1e-6);
    expect(first).toBeLessThanOrEqual(after + 1e-6);
    expect(second! - first!).toBeCloseTo(1.5, 5);
  });
});

describe('scale bench machine steal', () => {
  it('gives the change latency over the changes without steal beside the whole', () => {
    const log = new StageLog();
    const change = (at: number, stampMs: number, machineStealMs: number) => ({
      writtenAt: at,
      stampMs,
      seenAt: stampMs + 50,
      machineStealMs,
    });
    const summary = summarizeParts(log, [change(0, 3, 0), change(1000, 1040, 30), change(2000, 2002, 0)]);
    expect(summary.withoutSteal).toEqual({ changes: 2, of: 3, p50: 2, p99: 3, max: 3 });
    expect((summary.perPart as Record<string, { max: number }>).total?.max).toBe(40);
    expect(summarizeParts(log, [{ writtenAt: 0, stampMs: 3, seenAt: 50 }]).withoutSteal).toBeUndefined();
  });

  it("reads the VM's steal in whole ticks, which only grows", () => {
    const before = machineStealMs();
    expect(Number.isFinite(before)).toBe(true);
    expect(before % 10).toBe(0);
    expect(machineStealMs()).toBeGreaterThanOrEqual(before);
  });
});
