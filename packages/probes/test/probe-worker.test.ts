import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ContainerState,
  normalizeProbe,
  type ProbeResultUpdate,
  type ProbeRunOutcome,
  type ProbeRunResult,
  type ProbeSpec,
  type ProbeType,
  ProbeWorker,
  ResultsManager,
} from '../src/index';

const T0 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A scripted prober: returns the queued results in order, then repeats the last. */
function scripted(...results: ProbeRunResult[]) {
  const calls: number[] = [];
  const fn = async (): Promise<ProbeRunOutcome> => {
    calls.push(Date.now() - T0);
    const result = results.length > 1 ? results.shift()! : results[0]!;
    return { result, output: `run ${calls.length}` };
  };
  return { fn, calls, push: (...r: ProbeRunResult[]) => results.splice(0, results.length, ...r) };
}

function makeWorker(
  probeType: ProbeType,
  spec: Omit<ProbeSpec, 'exec'>,
  prober: ReturnType<typeof scripted>,
  state: ContainerState,
  random = 0,
) {
  const results = new ResultsManager(probeType);
  const updates: ProbeResultUpdate[] = [];
  results.subscribe((u) => updates.push(u));
  const worker = new ProbeWorker({
    podUID: 'pod-1',
    containerName: 'app',
    probeType,
    probe: normalizeProbe({ ...spec, exec: { command: ['check'] } }, probeType),
    target: { podIP: '10.0.0.1' },
    results,
    getState: () => state,
    random: () => random,
    runProbe: prober.fn,
  });
  return { worker, results, updates };
}

const running = (over: Partial<ContainerState> = {}): ContainerState => ({
  containerId: 'c1',
  running: true,
  startedAt: T0,
  started: true,
  ...over,
});

describe('ProbeWorker cadence', () => {
  it('waits a jittered part of the first period, then runs once per period', async () => {
    const prober = scripted('Success');
    const { worker } = makeWorker('Liveness', { periodSeconds: 10 }, prober, running(), 0.5);
    worker.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(prober.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_001);
    expect(prober.calls).toEqual([5_000, 15_000, 25_000, 35_000]);
    worker.stop();
  });

  it('uses the default 10 s period', async () => {
    const prober = scripted('Success');
    const { worker } = makeWorker('Readiness', {}, prober, running());
    worker.start();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(prober.calls).toEqual([0, 10_000, 20_000]);
    worker.stop();
  });

  it('skips ticks a slow probe overran instead of bunching runs', async () => {
    const calls: number[] = [];
    const { worker } = makeWorker(
      'Readiness',
      { periodSeconds: 1 },
      {
        fn: async () => {
          calls.push(Date.now() - T0);
          await new Promise((r) => setTimeout(r, 2_500));
          return { result: 'Success', output: '' };
        },
        calls,
        push: () => [],
      },
      running(),
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(9_000);
    expect(calls).toEqual([0, 3_000, 6_000, 9_000]);
    worker.stop();
  });

  it('never runs the same period twice when timers fire a millisecond early', async () => {
    // A clock whose timers fire 1 ms before Date.now() says they are due, as real timers can.
    const early = {
      now: () => Date.now(),
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, Math.max(0, ms - 1)),
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    const prober = scripted('Success');
    const results = new ResultsManager('Readiness');
    const worker = new ProbeWorker({
      podUID: 'p',
      containerName: 'app',
      probeType: 'Readiness',
      probe: normalizeProbe({ tcpSocket: { port: 1 }, periodSeconds: 1 }, 'Readiness'),
      target: { podIP: '127.0.0.1' },
      results,
      getState: () => running(),
      clock: early,
      random: () => 0.5,
      runProbe: prober.fn,
    });
    worker.start();
    await vi.advanceTimersByTimeAsync(10_000);
    worker.stop();
    expect(prober.calls).toHaveLength(10);
    const gaps = prober.calls.slice(1).map((t, i) => t - prober.calls[i]!);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(998);
  });

  it('does not probe during initialDelaySeconds, probes when it ends, then once per period', async () => {
    const prober = scripted('Success');
    const { worker } = makeWorker(
      'Readiness',
      { periodSeconds: 5, initialDelaySeconds: 12 },
      prober,
      running({ startedAt: T0 }),
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(20_000);
    // Not at the next period slot (15 s): the first run comes when the delay ends.
    expect(prober.calls).toEqual([12_000, 17_000]);
    worker.stop();
  });
});

describe('ProbeWorker thresholds', () => {
  it('starts readiness as Failure, liveness as Success and startup as Unknown', async () => {
    for (const [type, initial] of [
      ['Readiness', 'Failure'],
      ['Liveness', 'Success'],
      ['Startup', 'Unknown'],
    ] as const) {
      const prober = scripted('Unknown');
      const { worker, results, updates } = makeWorker(
        type,
        {},
        prober,
        running({ started: type !== 'Startup' }),
      );
      worker.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(results.get('c1')).toBe(initial);
      expect(updates).toEqual([
        { probeType: type, containerId: 'c1', podUID: 'pod-1', result: initial, message: '' },
      ]);
      worker.stop();
    }
  });

  it('reports liveness Failure only after failureThreshold consecutive failures', async () => {
    const prober = scripted('Failure', 'Success', 'Failure', 'Failure', 'Failure');
    const { worker, results, updates } = makeWorker(
      'Liveness',
      { periodSeconds: 1, failureThreshold: 3 },
      prober,
      running(),
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(prober.calls).toHaveLength(4);
    expect(results.get('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Failure');
    expect(updates.at(-1)).toMatchObject({ result: 'Failure', message: 'run 5' });
    worker.stop();
  });

  it('holds after a liveness failure until the container is replaced', async () => {
    const state = running();
    const prober = scripted('Failure');
    const { worker, results } = makeWorker(
      'Liveness',
      { periodSeconds: 1, failureThreshold: 1 },
      prober,
      state,
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(prober.calls).toEqual([0]);
    expect(results.get('c1')).toBe('Failure');
    // The kubelet restarts the container: a new ID resets the result and resumes probing.
    state.containerId = 'c2';
    state.startedAt = Date.now();
    prober.push('Success');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(prober.calls).toEqual([0, 6_000]);
    expect(results.get('c1')).toBeUndefined();
    expect(results.get('c2')).toBe('Success');
    worker.stop();
  });

  it('needs successThreshold successes for readiness and keeps probing after failures', async () => {
    const prober = scripted('Success', 'Success', 'Failure', 'Success', 'Success');
    const { worker, results } = makeWorker(
      'Readiness',
      { periodSeconds: 1, successThreshold: 2, failureThreshold: 1 },
      prober,
      running(),
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(results.get('c1')).toBe('Failure');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Failure');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Failure');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Success');
    expect(prober.calls).toHaveLength(5);
    worker.stop();
  });

  it('reruns an errored (Unknown) run up to three times in a row, then throws it away uncounted', async () => {
    // Periods: F (1); U U U, thrown away; F (2); U then F (3) on its rerun.
    const prober = scripted('Failure', 'Unknown', 'Unknown', 'Unknown', 'Failure', 'Unknown', 'Failure');
    const { worker, results } = makeWorker(
      'Liveness',
      { periodSeconds: 1, failureThreshold: 3 },
      prober,
      running(),
    );
    worker.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(prober.calls).toHaveLength(5);
    expect(results.get('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(prober.calls).toHaveLength(7);
    expect(results.get('c1')).toBe('Failure');
    worker.stop();
  });

  it('counts a Warning (redirect to another host) as Success', async () => {
    const prober = scripted('Warning');
    const { worker, results } = makeWorker('Readiness', { periodSeconds: 1 }, prober, running());
    worker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(results.get('c1')).toBe('Success');
    worker.stop();
  });

  it('sets Failure when the container stops running, without probing', async () => {
    const state = running();
    const prober = scripted('Success');
    const { worker, results } = makeWorker('Readiness', { periodSeconds: 1 }, prober, state);
    worker.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results.get('c1')).toBe('Success');
    state.running = false;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(results.get('c1')).toBe('Failure');
    expect(prober.calls).toEqual([0, 1_000]);
    worker.stop();
  });

  it('cancels an in-flight run on stop() and drops its result', async () => {
    let release!: (o: ProbeRunOutcome) => void;
    let seenSignal: AbortSignal | undefined;
    const results = new ResultsManager('Readiness');
    const worker = new ProbeWorker({
      podUID: 'p',
      containerName: 'app',
      probeType: 'Readiness',
      probe: normalizeProbe({ tcpSocket: { port: 1 } }, 'Readiness'),
      target: { podIP: '127.0.0.1' },
      results,
      getState: () => running(),
      random: () => 0,
      runProbe: (_probe, _target, signal) => {
        seenSignal = signal;
        return new Promise((r) => (release = r));
      },
    });
    worker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(results.get('c1')).toBe('Failure');
    expect(seenSignal?.aborted).toBe(false);
    worker.stop();
    expect(seenSignal?.aborted).toBe(true);
    expect(results.get('c1')).toBeUndefined();
    release({ result: 'Success', output: '' });
    await worker.idle();
    expect(results.get('c1')).toBeUndefined();
  });
});

describe('ResultsManager', () => {
  it('notifies only on changes and stops after unsubscribe', () => {
    const m = new ResultsManager('Readiness');
    const seen: string[] = [];
    const off = m.subscribe((u) => seen.push(`${u.containerId}=${u.result}`));
    m.set('a', 'p', 'Failure');
    m.set('a', 'p', 'Failure');
    m.set('a', 'p', 'Success');
    m.set('b', 'p', 'Success');
    off();
    m.set('a', 'p', 'Failure');
    expect(seen).toEqual(['a=Failure', 'a=Success', 'b=Success']);
    expect(m.get('a')).toBe('Failure');
    m.remove('a');
    expect(m.get('a')).toBeUndefined();
  });
});

describe('ProbeWorker manual trigger', () => {
  it('probes at once when triggered, stores readiness then, and counts periods from that first run', async () => {
    const prober = scripted('Success');
    const { worker, results } = makeWorker('Readiness', { periodSeconds: 2 }, prober, running(), 0.9);
    worker.start();
    worker.trigger();
    await vi.advanceTimersByTimeAsync(0);
    // Ready without waiting for the jittered first tick at 1.8 s.
    expect(prober.calls).toEqual([0]);
    expect(results.get('c1')).toBe('Success');
    await vi.advanceTimersByTimeAsync(4_000);
    // The triggered run took the place of the jittered first one (no second probe at 1.8 s).
    expect(prober.calls).toEqual([0, 2_000, 4_000]);
    worker.stop();
  });

  it('does nothing while a run is in flight, after stop, or inside initialDelaySeconds', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const slow = {
      fn: async (): Promise<ProbeRunOutcome> => {
        calls++;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { result: 'Success', output: '' };
      },
      calls: [] as number[],
      push: (): ProbeRunResult[] => [],
    };
    const { worker } = makeWorker('Readiness', { periodSeconds: 10 }, slow, running(), 0.5);
    worker.start();
    worker.trigger();
    worker.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    worker.stop();
    worker.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);

    const prober = scripted('Success');
    const delayed = makeWorker(
      'Readiness',
      { periodSeconds: 10, initialDelaySeconds: 5 },
      prober,
      running(),
      0.9,
    );
    delayed.worker.start();
    delayed.worker.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(prober.calls).toEqual([]);
    delayed.worker.stop();
  });
});
