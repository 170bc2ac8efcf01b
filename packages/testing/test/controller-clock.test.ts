import { describe, expect, it, vi } from 'vitest';
import { ManualClock, startApiServer, systemClock } from '../src/apiserver/index';

describe('controller clocks', () => {
  it('ManualClock fires due timers in time order, each at its own time, and skips cancelled ones', async () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`b@${clock.now().getTime()}`));
    clock.setTimer(100, () => {
      fired.push(`a@${clock.now().getTime()}`);
      // A timer set while firing runs in the same advance when it falls due in it.
      clock.setTimer(100, () => fired.push(`c@${clock.now().getTime()}`));
    });
    clock.setTimer(200, () => fired.push('cancelled')).cancel();
    clock.setTimer(5_000, () => fired.push('later'));
    await clock.advance(300);
    expect(fired).toEqual(['a@1100', 'c@1200', 'b@1300']);
    expect(clock.now().getTime()).toBe(1_300);
    expect(clock.pendingTimers).toBe(1);
    await expect(clock.advance(-1)).rejects.toThrow('FakeClock.advance: ms must be >= 0, got -1');
  });

  it('the wall clock drives the controllers when no clock is given (the demo)', async () => {
    const server = await startApiServer({
      controlPlane: {
        clock: systemClock,
        nodeLifecycle: {
          nodeMonitorPeriodSeconds: 0.05,
          nodeMonitorGracePeriodSeconds: 0.1,
          nodeStartupGracePeriodSeconds: 0.1,
        },
      },
    });
    try {
      const nodes = server.resource('v1', 'nodes');
      server.registry.create(nodes, undefined, { metadata: { name: 'quiet' } });
      // A node that never posts status goes Unknown after the 0.1 s startup grace; allow a slow machine 10 s.
      await vi.waitFor(
        () => {
          const n = server.registry.get(nodes, undefined, 'quiet');
          const ready = (
            (n.status as { conditions?: { type: string; reason?: string }[] }).conditions ?? []
          ).find((c) => c.type === 'Ready');
          expect(ready?.reason).toBe('NodeStatusNeverUpdated');
        },
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      await server.close();
    }
  });
});
