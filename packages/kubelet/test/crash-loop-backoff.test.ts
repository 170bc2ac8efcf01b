import { FakeClock } from '@nodeagent/primitives';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrashLoopBackOff } from '../src/pod/crash-loop-backoff';

describe('CrashLoopBackOff', () => {
  it('restarts at once, then waits 10s, 20s, 40s ... capped at 5 min', () => {
    const clock = new FakeClock(0);
    const backoff = new CrashLoopBackOff({ clock });
    const waits: number[] = [];
    // The container crashes right after every start.
    for (let crash = 0; crash < 10; crash++) {
      const failedAt = clock.now();
      let waited = 0;
      while (backoff.check('pod/app', failedAt).inBackOff) {
        clock.advance(1000);
        waited += 1000;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
  });

  it('reports the remaining delay while in backoff', () => {
    const clock = new FakeClock(0);
    const backoff = new CrashLoopBackOff({ clock });
    expect(backoff.check('k', 0)).toEqual({ inBackOff: false });
    clock.advance(1000);
    expect(backoff.check('k', 1000)).toEqual({ inBackOff: true, backoffMs: 10_000, remainingMs: 10_000 });
    clock.advance(4000);
    expect(backoff.check('k', 1000)).toEqual({ inBackOff: true, backoffMs: 10_000, remainingMs: 6000 });
  });

  it('starts again at 10s after a container ran for more than 10 minutes', () => {
    const clock = new FakeClock(0);
    const backoff = new CrashLoopBackOff({ clock });
    for (let i = 0; i < 5; i++) backoff.next('k', clock.now());
    expect(backoff.get('k')).toBe(160_000);
    clock.advance(10 * 60_000 + 1);
    // The long run ends in a crash: the next restart is immediate and the delay is back to 10 s.
    expect(backoff.check('k', clock.now()).inBackOff).toBe(false);
    expect(backoff.get('k')).toBe(10_000);
  });

  it('with a fixed expiry, a container that ran longer than twice a small cap keeps its back-off', () => {
    const clock = new FakeClock(0);
    const backoff = new CrashLoopBackOff({ clock, initialMs: 5_000, maxMs: 30_000, expireAfterMs: 600_000 });
    const flowcontrolDefault = new CrashLoopBackOff({ clock, initialMs: 5_000, maxMs: 30_000 });
    for (let i = 0; i < 4; i++) {
      backoff.next('k', clock.now());
      flowcontrolDefault.next('k', clock.now());
    }
    expect(backoff.get('k')).toBe(30_000);
    // 61 s is past twice the cap (flowcontrol's default expiry) but within the kubelet's 600 s.
    clock.advance(61_000);
    expect(backoff.check('k', clock.now())).toMatchObject({ inBackOff: true, backoffMs: 30_000 });
    expect(flowcontrolDefault.check('k', clock.now()).inBackOff).toBe(false);
    clock.advance(600_000);
    expect(backoff.check('k', clock.now()).inBackOff).toBe(false);
    expect(backoff.get('k')).toBe(5_000);
  });

  it('keeps separate keys apart and forgets idle ones on gc', () => {
    const clock = new FakeClock(0);
    const backoff = new CrashLoopBackOff({ clock });
    backoff.next('a', 0);
    backoff.next('a', 0);
    backoff.next('b', 0);
    expect(backoff.get('a')).toBe(20_000);
    expect(backoff.get('b')).toBe(10_000);
    clock.advance(10 * 60_000 + 1);
    backoff.gc();
    expect(backoff.size).toBe(0);
  });

  it('never exceeds the maximum and never shrinks while failures keep coming (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 599_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        const clock = new FakeClock(0);
        const backoff = new CrashLoopBackOff({ clock });
        let previous = 0;
        for (const gap of gaps) {
          clock.advance(gap);
          backoff.next('k', clock.now());
          const current = backoff.get('k');
          expect(current).toBeLessThanOrEqual(300_000);
          expect(current).toBeGreaterThanOrEqual(Math.min(previous, 300_000));
          previous = current;
        }
      }),
    );
  });
});
