import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KUBELET_RESTART_GRACE_MS, ProbeManager, type ProbeRunOutcome } from '../src/index';

const T0 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * KEP-4781 (upstream v1.35+): a container already running well before the prober started (a
 * kubelet restart) gets no initial Failure readiness; its state stays unknown until a real run.
 */
describe('ProbeManager after a kubelet restart', () => {
  it('stores no initial result for containers running since before the restart grace, and does for newer ones', async () => {
    const pending: ((outcome: ProbeRunOutcome) => void)[] = [];
    const manager = new ProbeManager({
      random: () => 0,
      runProbe: () => new Promise<ProbeRunOutcome>((resolve) => pending.push(resolve)),
    });
    const readiness = { readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 10 } };
    const state = (containerId: string, startedAt: number) => () => ({
      containerId,
      running: true,
      startedAt,
    });
    manager.addContainer('pod', '10.0.0.1', { name: 'old', ...readiness }, state('c-old', T0 - 60_000));
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'edge', ...readiness },
      state('c-edge', T0 - KUBELET_RESTART_GRACE_MS),
    );
    manager.addContainer('pod', '10.0.0.1', { name: 'new', ...readiness }, state('c-new', T0 - 1_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(pending).toHaveLength(3);
    expect(manager.readiness.get('c-old')).toBeUndefined();
    // Exactly at the grace boundary the container counts as started after the restart.
    expect(manager.readiness.get('c-edge')).toBe('Failure');
    expect(manager.readiness.get('c-new')).toBe('Failure');
    for (const resolve of pending) resolve({ result: 'Success', output: '' });
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.readiness.get('c-old')).toBe('Success');
    expect(manager.readiness.get('c-new')).toBe('Success');
    await manager.close();
  });

  it('gives a later instance of an adopted container the initial result as usual', async () => {
    let current = { containerId: 'c1', running: true, startedAt: T0 - 60_000 };
    const manager = new ProbeManager({
      random: () => 0,
      // Failures under the threshold: runs go on, no result of their own is stored.
      runProbe: async (): Promise<ProbeRunOutcome> => ({ result: 'Failure', output: '' }),
    });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', startupProbe: { exec: { command: ['s'] }, periodSeconds: 1, failureThreshold: 100 } },
      () => current,
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.startup.get('c1')).toBeUndefined();
    current = { containerId: 'c2', running: true, startedAt: T0 + 500 };
    await vi.advanceTimersByTimeAsync(1_000);
    expect(manager.startup.get('c2')).toBe('Unknown');
    await manager.close();
  });
});
