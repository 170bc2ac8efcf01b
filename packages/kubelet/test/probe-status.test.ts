import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Container, Pod, PodStatus } from '../src/api/pod-types';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { createKubeletMetrics } from '../src/metrics';
import { forgetProbeRuns, recordProbeRun } from '../src/metrics-collectors/prober-metrics';
import { PodProber } from '../src/probes/pod-prober';
import { withContainerReadiness } from '../src/status/container-probe-status';
import { generatePodStatus } from '../src/status/generate-pod-status';
import { StatusManager } from '../src/status/status-manager';
import { runningPodRuntimeStatus } from './helpers/running-pod-runtime-status';

/** Lets the promise chains woken by a timer run before time moves on. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const readyCondition = (status: PodStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

/**
 * The kubelet's probe → status path on a fake clock: PodProber (one probe manager, exec probes
 * through the runtime's ExecSync) wired to the StatusManager as kubelet.ts wires them
 * (a result change goes to applyProbeResult at once).
 */
function setup(container: Partial<Container>, execExitCode: () => number = () => 0) {
  const clock = new FakeClock();
  // The kubelet (and its prober) started a minute ago: no start-up spread of first probes.
  clock.advance(60_000);
  const execs: Array<{ at: number; containerId: string; command: string[] }> = [];
  const runtime = {
    execSync: async (containerId: string, command: string[]) => {
      execs.push({ at: clock.now(), containerId, command });
      return { exitCode: execExitCode(), stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    },
  } as unknown as PodRuntime;
  const written: PodStatus[] = [];
  const statusManager = new StatusManager({
    writer: {
      patchStatus: async (_pod, status) => {
        written.push(status);
      },
    },
  });
  const syncs: string[] = [];
  const removed: Array<[string, string, string[]]> = [];
  const prober = new PodProber({
    runtime,
    clock,
    onPodRemoved: (uid, name, types) => removed.push([uid, name, types]),
    onChange: (uid, update) => {
      statusManager.applyProbeResult(update, clock.now());
      syncs.push(uid);
    },
  });
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [{ name: 'app', image: 'busybox', ...container }] },
  };
  const startedAt = clock.now();
  const runtimeStatus = runningPodRuntimeStatus(startedAt);
  /** What the kubelet's pod sync does: start probing, generate the status, hand it over. */
  const sync = () => {
    prober.update(pod, runtimeStatus, '10.0.0.5');
    const status = generatePodStatus({ ...pod, status: statusManager.getPodStatus('uid-1') }, runtimeStatus, {
      now: clock.now(),
      hostIPs: ['192.168.0.1'],
      ready: (id, c) => prober.ready(id, c),
      started: (id, c) => prober.started(id, c),
    });
    statusManager.setPodStatus(pod, status);
  };
  return { clock, execs, statusManager, written, prober, sync, syncs, startedAt, removed, pod };
}

describe('probe results reach the pod status at once (fake clock)', () => {
  it("runs a container's first readiness probe when it starts and reports Ready right after it passes", async () => {
    const t = setup({ readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 } });
    t.sync();
    // Before the probe ran: Running, not Ready.
    expect(readyCondition(t.statusManager.getPodStatus('uid-1'))?.status).toBe('False');
    await t.clock.advanceAsync(0, settle);
    expect(t.execs).toEqual([{ at: t.startedAt, containerId: 'c1', command: ['/bin/true'] }]);
    // No pod sync ran since: the status manager put the result in by itself.
    const status = t.statusManager.getPodStatus('uid-1');
    expect(readyCondition(status)?.status).toBe('True');
    expect(status?.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    expect(status?.containerStatuses?.[0]?.ready).toBe(true);
    await t.statusManager.flush();
    expect(readyCondition(t.written.at(-1))?.status).toBe('True');
    // The kubelet still syncs the pod on the change (upstream handleProbeSync); that sync
    // generates the same status, so nothing more is written.
    expect(new Set(t.syncs)).toEqual(new Set(['uid-1']));
    const writes = t.statusManager.writes;
    t.sync();
    await t.statusManager.flush();
    expect(t.statusManager.writes).toBe(writes);
    // The next run is one period later.
    await t.clock.advanceAsync(10_000, settle);
    expect(t.execs.map((e) => e.at - t.startedAt)).toEqual([0, 10_000]);
    await t.prober.close();
  });

  it('honours initialDelaySeconds: the first probe runs when it ends, and Ready follows at once', async () => {
    const t = setup({
      readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10, initialDelaySeconds: 4 },
    });
    t.sync();
    await t.clock.advanceAsync(3_999, settle);
    expect(t.execs).toHaveLength(0);
    expect(readyCondition(t.statusManager.getPodStatus('uid-1'))?.status).toBe('False');
    await t.clock.advanceAsync(1, settle);
    expect(t.execs.map((e) => e.at - t.startedAt)).toEqual([4_000]);
    expect(readyCondition(t.statusManager.getPodStatus('uid-1'))?.status).toBe('True');
    await t.prober.close();
  });

  it('a failing readiness probe makes the pod unready with upstream condition reason and message', async () => {
    let exit = 0;
    const t = setup(
      { readinessProbe: { exec: { command: ['check'] }, periodSeconds: 10, failureThreshold: 1 } },
      () => exit,
    );
    t.sync();
    await t.clock.advanceAsync(0, settle);
    const readyAt = readyCondition(t.statusManager.getPodStatus('uid-1'))?.lastTransitionTime;
    expect(readyCondition(t.statusManager.getPodStatus('uid-1'))?.status).toBe('True');
    exit = 1;
    await t.clock.advanceAsync(10_000, settle);
    const ready = readyCondition(t.statusManager.getPodStatus('uid-1'));
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    expect(ready?.lastTransitionTime).not.toBe(readyAt);
    expect(t.statusManager.getPodStatus('uid-1')?.containerStatuses?.[0]?.ready).toBe(false);
    await t.prober.close();
  });

  it('a startup probe that passes sets started at once, then readiness is probed and Ready follows', async () => {
    const t = setup({
      startupProbe: { exec: { command: ['started'] }, periodSeconds: 10 },
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 10 },
    });
    t.sync();
    expect(t.statusManager.getPodStatus('uid-1')?.containerStatuses?.[0]?.started).toBe(false);
    await t.clock.advanceAsync(0, settle);
    expect(t.execs.map((e) => [e.command[0], e.at - t.startedAt])).toEqual([
      ['started', 0],
      ['ready', 0],
    ]);
    const status = t.statusManager.getPodStatus('uid-1');
    expect(status?.containerStatuses?.[0]?.started).toBe(true);
    expect(readyCondition(status)?.status).toBe('True');
    await t.prober.close();
  });

  it('frees the per-container probe state when the pod is removed', async () => {
    const t = setup({ readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 } });
    t.sync();
    await t.clock.advanceAsync(0, settle);
    expect(t.prober.probedContainers).toBe(1);
    t.prober.removePod('uid-1');
    expect(t.prober.probedContainers).toBe(0);
    // The kubelet drops the container's prober metric series on this.
    expect(t.removed).toEqual([['uid-1', 'app', ['Readiness']]]);
    expect(t.prober.ready('c1', { name: 'app', image: 'busybox', readinessProbe: {} })).toBe(false);
    // No worker left: time passes without a probe.
    await t.clock.advanceAsync(60_000, settle);
    expect(t.execs).toHaveLength(1);
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it('reports a container whose probes stopped before the pod was removed, once', async () => {
    const t = setup({
      livenessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 },
      readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 },
    });
    t.sync();
    await t.clock.advanceAsync(0, settle);
    // A restart (new instance), then the container exits for good (restartPolicy Never).
    const restarted = runningPodRuntimeStatus(t.startedAt);
    restarted.containers[0] = { ...restarted.containers[0]!, id: 'c2' };
    t.prober.update(t.pod, restarted, '10.0.0.5');
    const exited = runningPodRuntimeStatus(t.startedAt);
    exited.containers[0] = { ...exited.containers[0]!, id: 'c2', state: 'exited' };
    t.prober.update(t.pod, exited, '10.0.0.5');
    expect(t.prober.probedContainers).toBe(0);
    expect(t.removed).toEqual([]);
    t.prober.removePod('uid-1');
    expect(t.removed).toEqual([['uid-1', 'app', ['Liveness', 'Readiness']]]);
    t.prober.removePod('uid-1');
    expect(t.removed).toHaveLength(1);
    await t.prober.close();
  });
});

describe('withContainerReadiness (upstream SetContainerReadiness)', () => {
  const running = { running: { startedAt: '2025-01-01T00:00:00Z' } };
  const pod: Pod = {
    metadata: { name: 'web', uid: 'u' },
    spec: {
      initContainers: [{ name: 'proxy', image: 'busybox', restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: 'busybox' }],
      readinessGates: [{ conditionType: 'example.com/lb' }],
    },
  };
  const status: PodStatus = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z' }],
    initContainerStatuses: [
      { name: 'proxy', containerID: 'containerd://p1', ready: true, state: running } as never,
    ],
    containerStatuses: [
      { name: 'app', containerID: 'containerd://a1', ready: false, state: running } as never,
    ],
  };
  const now = Date.UTC(2025, 0, 1, 0, 1);

  it('reports an unmet readiness gate once every container is ready', () => {
    const next = withContainerReadiness(pod, status, 'a1', true, now)!;
    expect(next.containerStatuses?.[0]?.ready).toBe(true);
    expect(next.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
      lastTransitionTime: '2025-01-01T00:00:00Z',
    });
    expect(next.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    // The input is not changed.
    expect(status.containerStatuses?.[0]?.ready).toBe(false);
  });

  it('counts a sidecar as a container and changes nothing when readiness is unchanged', () => {
    const next = withContainerReadiness(pod, status, 'p1', false, now)!;
    expect(next.conditions?.find((c) => c.type === 'ContainersReady')?.message).toBe(
      'containers with unready status: [proxy app]',
    );
    expect(withContainerReadiness(pod, status, 'a1', false, now)).toBeUndefined();
    expect(withContainerReadiness(pod, status, 'unknown', true, now)).toBeUndefined();
  });
});

describe('prober metrics of a removed pod', () => {
  it("are deleted, as upstream deletes a stopped worker's series", async () => {
    const metrics = createKubeletMetrics();
    const pod: Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
    const run = (result: 'Success' | 'Failure') =>
      recordProbeRun(metrics, pod, {
        probeType: 'Readiness',
        podUID: 'u1',
        containerName: 'app',
        containerId: 'c1',
        outcome: { result, output: '' },
        resultRun: 1,
        tickAt: 0,
        durationMs: 5,
      });
    run('Success');
    run('Failure');
    expect((await metrics.proberProbeTotal.get()).values).toHaveLength(2);
    forgetProbeRuns(metrics, pod, 'u1', 'app', ['Readiness']);
    expect((await metrics.proberProbeTotal.get()).values).toHaveLength(0);
    expect((await metrics.proberProbeDuration.get()).values).toHaveLength(0);
  });

  it('are deleted for a container that stopped before its pod was removed (a finished Job, a lost pod IP)', async () => {
    const clock = new FakeClock();
    clock.advance(60_000);
    const metrics = createKubeletMetrics();
    const runtime = {
      execSync: async () => ({ exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }),
    } as unknown as PodRuntime;
    const pod: Pod = {
      metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 10 },
          },
        ],
      },
    };
    // Wired as kubelet-parts wires the prober to its metrics.
    const prober = new PodProber({
      runtime,
      clock,
      onChange: () => {},
      onRun: (event) => recordProbeRun(metrics, pod, event),
      onPodRemoved: (uid, container, types) => forgetProbeRuns(metrics, pod, uid, container, types),
    });
    const running = runningPodRuntimeStatus(clock.now());
    prober.update(pod, running, '10.0.0.5');
    await clock.advanceAsync(0, settle);
    expect((await metrics.proberProbeTotal.get()).values).toHaveLength(1);
    expect((await metrics.proberProbeDuration.get()).values).not.toHaveLength(0);
    const exited = runningPodRuntimeStatus(running.containers[0]!.startedAt!);
    exited.containers[0] = { ...exited.containers[0]!, state: 'exited' };
    prober.update(pod, exited, undefined);
    // No longer probed, the series stay until the pod goes, as upstream's worker's do.
    expect((await metrics.proberProbeTotal.get()).values).toHaveLength(1);
    prober.removePod('uid-1');
    expect((await metrics.proberProbeTotal.get()).values).toHaveLength(0);
    expect((await metrics.proberProbeDuration.get()).values).toHaveLength(0);
    await prober.close();
  });
});
