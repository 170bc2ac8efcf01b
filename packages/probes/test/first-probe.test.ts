import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { ProbeManager, type ProbeRunOutcome, type ProbeSpec } from '../src/index';

/** Lets the promise chains woken by a timer run before time moves on. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A manager on a fake clock whose probes always succeed, recording when each type ran. */
function setup(managerStartedMsAgo = 0) {
  const clock = new FakeClock();
  const runs: Array<{ at: number; type: string; containerId: string | undefined }> = [];
  const origin = clock.now();
  const manager = new ProbeManager({
    clock,
    // Without the spread rule, a first run would wait 90% of a period.
    random: () => 0.9,
    runProbe: async (probe, target): Promise<ProbeRunOutcome> => {
      runs.push({ at: clock.now() - origin, type: probe.handler.kind, containerId: target.containerId });
      return { result: 'Success', output: '' };
    },
  });
  clock.set(origin + managerStartedMsAgo);
  return { clock, runs, manager, origin };
}

const exec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  exec: { command: ['/bin/true'] },
  periodSeconds: 10,
  ...over,
});

describe("a container's first probe (upstream prober worker)", () => {
  it('runs the readiness probe when the container starts, not one period later, and stores Ready', async () => {
    const { clock, runs, manager, origin } = setup(60_000);
    const startedAt = clock.now();
    manager.addContainer('pod', '10.0.0.1', { name: 'app', readinessProbe: exec() }, () => ({
      containerId: 'c1',
      running: true,
      startedAt,
    }));
    await clock.advanceAsync(0, settle);
    expect(runs.map((r) => r.at - 60_000)).toEqual([0]);
    expect(runs[0]!.containerId).toBe('c1');
    expect(manager.readiness.get('c1')).toBe('Success');
    // Then once per period from there.
    await clock.advanceAsync(20_000, settle);
    expect(runs.map((r) => r.at - 60_000)).toEqual([0, 10_000, 20_000]);
    expect(clock.now() - origin).toBe(80_000);
    await manager.close();
  });

  it('runs the startup probe when the container starts, and readiness as soon as startup passes', async () => {
    const clock = new FakeClock();
    const origin = clock.now() - 60_000;
    const runs: Array<[string, number]> = [];
    const manager = new ProbeManager({
      clock,
      random: () => 0.9,
      runProbe: async (probe): Promise<ProbeRunOutcome> => {
        const command = probe.handler.kind === 'exec' ? probe.handler.command[0]! : '';
        // The startup check takes half a second; readiness answers at once.
        if (command === 'startup') await new Promise<void>((resolve) => clock.setTimeout(resolve, 500));
        runs.push([command, clock.now() - origin - 60_000]);
        return { result: 'Success', output: '' };
      },
    });
    const startedAt = clock.now();
    const cmd = (name: string) => exec({ exec: { command: [name] } });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', startupProbe: cmd('startup'), readinessProbe: cmd('ready') },
      () => ({ containerId: 'c1', running: true, startedAt }),
    );
    await clock.advanceAsync(0, settle);
    // Readiness's own first run came while the startup probe was still running: gated.
    expect(runs).toEqual([]);
    expect(manager.readiness.get('c1')).toBe('Failure');
    await clock.advanceAsync(500, settle);
    expect(runs).toEqual([
      ['startup', 500],
      ['ready', 500],
    ]);
    expect(manager.startup.get('c1')).toBe('Success');
    expect(manager.readiness.get('c1')).toBe('Success');
    await manager.close();
  });

  it('honours initialDelaySeconds: the first run comes when the delay ends, not at the next period', async () => {
    const { clock, runs, manager } = setup(60_000);
    const startedAt = clock.now();
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', readinessProbe: exec({ initialDelaySeconds: 3 }) },
      () => ({ containerId: 'c1', running: true, startedAt }),
    );
    await clock.advanceAsync(2_999, settle);
    expect(runs).toHaveLength(0);
    expect(manager.readiness.get('c1')).toBe('Failure');
    await clock.advanceAsync(1, settle);
    expect(runs.map((r) => r.at - 60_000)).toEqual([3_000]);
    expect(manager.readiness.get('c1')).toBe('Success');
    await clock.advanceAsync(10_000, settle);
    expect(runs.map((r) => r.at - 60_000)).toEqual([3_000, 13_000]);
    await manager.close();
  });

  it('spreads the first run only for containers adopted within a period of the kubelet start', async () => {
    const { clock, runs, manager } = setup(1_000);
    const before = clock.now() - 30_000;
    // Running since before the kubelet (re)started: spread over 90% of the period.
    manager.addContainer('pod', '10.0.0.1', { name: 'old', readinessProbe: exec() }, () => ({
      containerId: 'c-old',
      running: true,
      startedAt: before,
    }));
    // Started after the kubelet: probed at once.
    const now = clock.now();
    manager.addContainer('pod', '10.0.0.1', { name: 'new', readinessProbe: exec() }, () => ({
      containerId: 'c-new',
      running: true,
      startedAt: now,
    }));
    await clock.advanceAsync(0, settle);
    expect(runs.map((r) => r.containerId)).toEqual(['c-new']);
    await clock.advanceAsync(9_000, settle);
    expect(runs.map((r) => [r.containerId, r.at - 1_000])).toEqual([
      ['c-new', 0],
      ['c-old', 9_000],
    ]);
    await manager.close();
  });

  it('does not spread an adopted container once a period has passed since the kubelet start', async () => {
    const { clock, runs, manager } = setup(10_000);
    const before = clock.now() - 30_000;
    manager.addContainer('pod', '10.0.0.1', { name: 'old', readinessProbe: exec() }, () => ({
      containerId: 'c-old',
      running: true,
      startedAt: before,
    }));
    await clock.advanceAsync(0, settle);
    expect(runs.map((r) => r.at - 10_000)).toEqual([0]);
    await manager.close();
  });

  it('hands the exec executor the probed container instance, so one executor serves every container', async () => {
    const clock = new FakeClock();
    const seen: Array<[string[], string | undefined]> = [];
    const manager = new ProbeManager({
      clock,
      executor: async (command, _timeoutMs, containerId) => {
        seen.push([command, containerId]);
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    });
    clock.advance(60_000);
    const startedAt = clock.now();
    for (const id of ['c1', 'c2'])
      manager.addContainer(`pod-${id}`, '10.0.0.1', { name: 'app', readinessProbe: exec() }, () => ({
        containerId: id,
        running: true,
        startedAt,
      }));
    await clock.advanceAsync(0, settle);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([
      [['/bin/true'], 'c1'],
      [['/bin/true'], 'c2'],
    ]);
    expect(manager.readiness.get('c2')).toBe('Success');
    await manager.close();
  });
});
