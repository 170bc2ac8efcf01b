import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConcurrencyLimiter,
  InvalidProbeError,
  PortNotFoundError,
  ProbeManager,
  type ProbeRunEvent,
  type ProbeRunOutcome,
  type ProbeType,
} from '../src/index';

const T0 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ProbeManager', () => {
  it('gates liveness and readiness behind the startup probe', async () => {
    let startupOk = false;
    const runs: ProbeRunEvent[] = [];
    const manager = new ProbeManager({
      random: () => 0,
      onRun: (e) => runs.push(e),
      runProbe: async (probe): Promise<ProbeRunOutcome> => {
        const cmd = probe.handler.kind === 'exec' ? probe.handler.command[0] : '';
        if (cmd === 'startup') return { result: startupOk ? 'Success' : 'Failure', output: '' };
        return { result: 'Success', output: '' };
      },
    });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      {
        name: 'app',
        startupProbe: { exec: { command: ['startup'] }, periodSeconds: 1, failureThreshold: 30 },
        livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1 },
        readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
      },
      () => ({ containerId: 'c1', running: true, startedAt: T0 }),
    );
    const byType = (t: ProbeType) => runs.filter((r) => r.probeType === t).length;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(byType('Startup')).toBe(4);
    expect(byType('Liveness')).toBe(0);
    expect(byType('Readiness')).toBe(0);
    expect(manager.readiness.get('c1')).toBe('Failure');
    expect(manager.startup.get('c1')).toBe('Unknown');
    startupOk = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(manager.startup.get('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(byType('Startup')).toBe(5);
    expect(byType('Liveness')).toBeGreaterThanOrEqual(3);
    expect(manager.readiness.get('c1')).toBe('Success');
    await manager.close();
  });

  it('cancels probing when the container is removed and forgets its results', async () => {
    let calls = 0;
    const manager = new ProbeManager({
      random: () => 0,
      runProbe: async () => {
        calls++;
        return { result: 'Success', output: '' };
      },
    });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', readinessProbe: { tcpSocket: { port: 80 } } },
      () => ({
        containerId: 'c1',
        running: true,
        startedAt: T0,
      }),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(2);
    expect(manager.readiness.get('c1')).toBe('Success');
    manager.removeContainer('pod', 'app');
    expect(manager.containerCount).toBe(0);
    expect(manager.readiness.get('c1')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(2);
  });

  it('bounds the number of probes running at once', async () => {
    let active = 0;
    let peak = 0;
    let done = 0;
    const manager = new ProbeManager({
      random: () => 0,
      maxConcurrentProbes: 3,
      runProbe: async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 100));
        active--;
        done++;
        return { result: 'Success', output: '' };
      },
    });
    for (let i = 0; i < 10; i++) {
      manager.addContainer(
        `pod-${i}`,
        '10.0.0.1',
        { name: 'app', readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 10 } },
        () => ({ containerId: `c${i}`, running: true, startedAt: T0 }),
      );
    }
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(10);
    expect(peak).toBe(3);
    await manager.close();
  });

  it('validates every probe before starting anything', () => {
    const manager = new ProbeManager({ runProbe: async () => ({ result: 'Success', output: '' }) });
    expect(() =>
      manager.addContainer(
        'pod',
        '10.0.0.1',
        {
          name: 'app',
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { port: 'http' } },
          livenessProbe: { httpGet: { port: 'admin' } },
        },
        () => undefined,
      ),
    ).toThrow(PortNotFoundError);
    expect(manager.containerCount).toBe(0);
    expect(() =>
      manager.addContainer(
        'pod',
        '10.0.0.1',
        { name: 'app', readinessProbe: { exec: { command: ['x'] }, tcpSocket: { port: 1 } } },
        () => undefined,
      ),
    ).toThrow(InvalidProbeError);
  });

  it('reports exec probes without an executor as Unknown rather than running anything', async () => {
    const runs: ProbeRunEvent[] = [];
    const manager = new ProbeManager({ random: () => 0, onRun: (e) => runs.push(e) });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', livenessProbe: { exec: { command: ['true'] } } },
      () => ({
        containerId: 'c1',
        running: true,
        startedAt: T0,
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(runs[0]?.outcome).toEqual({
      result: 'Unknown',
      output: 'no exec executor configured for exec probes',
    });
    expect(manager.liveness.get('c1')).toBe('Success');
    await manager.close();
  });
});

describe('ProbeManager with an injected exec executor', () => {
  it('runs exec probes through the executor and kills liveness after failureThreshold', async () => {
    const seen: Array<[string[], number]> = [];
    let healthy = true;
    const manager = new ProbeManager({
      random: () => 0,
      executor: async (command, timeoutMs) => {
        seen.push([command, timeoutMs]);
        return healthy
          ? { exitCode: 0, stdout: 'ok', stderr: '' }
          : { exitCode: 1, stdout: '', stderr: 'unhealthy' };
      },
    });
    const updates: string[] = [];
    manager.liveness.subscribe((u) => updates.push(`${u.result}:${u.message}`));
    manager.addContainer(
      'pod',
      '10.0.0.1',
      {
        name: 'app',
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 2, timeoutSeconds: 3 },
      },
      () => ({ containerId: 'c1', running: true, startedAt: T0 }),
    );
    await vi.advanceTimersByTimeAsync(4_000);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toEqual([['cat', '/tmp/healthy'], 3000]);
    healthy = false;
    await vi.advanceTimersByTimeAsync(6_000);
    expect(updates).toEqual(['Success:', 'Failure:unhealthy']);
    await manager.close();
  });
});

describe('ProbeManager error isolation', () => {
  it('keeps probing when getState throws and reports the error', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let broken = true;
    const manager = new ProbeManager({
      random: () => 0,
      onError: (err) => errors.push(err),
      runProbe: async () => {
        calls++;
        return { result: 'Success', output: '' };
      },
    });
    manager.addContainer(
      'pod',
      '10.0.0.1',
      { name: 'app', readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } },
      () => {
        if (broken) throw new Error('runtime unavailable');
        return { containerId: 'c1', running: true, startedAt: T0 };
      },
    );
    await vi.advanceTimersByTimeAsync(2_000);
    expect(errors).toHaveLength(3);
    expect(calls).toBe(0);
    broken = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    expect(manager.readiness.get('c1')).toBe('Success');
    await manager.close();
  });
});

describe('ConcurrencyLimiter', () => {
  it('rejects a non-positive bound', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(InvalidProbeError);
  });

  it('runs waiters in FIFO order', async () => {
    vi.useRealTimers();
    const limiter = new ConcurrencyLimiter(1);
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        limiter.run(async () => {
          order.push(n);
          await Promise.resolve();
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3]);
    expect(limiter.running).toBe(0);
  });
});
