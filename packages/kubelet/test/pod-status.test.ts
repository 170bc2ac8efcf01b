import { describe, expect, it } from 'vitest';
import type { Container, Pod, PodCondition } from '../src/api/pod-types';
import { generatePodStatus, isRejectedPodStatus, rejectedPodStatus } from '../src/status/generate-pod-status';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

const now = Date.UTC(2025, 0, 1, 12, 0, 0);
const app: Container = { name: 'app', image: 'busybox:1' };
const condition = (conditions: PodCondition[] | undefined, type: string) =>
  conditions?.find((c) => c.type === type);

describe('generatePodStatus', () => {
  it('reports a pod without sandbox as Pending with ContainerCreating', () => {
    const pod = makePod({ containers: [app] });
    const status = generatePodStatus(pod, runtimeStatus(pod, []), { now, hostIPs: ['192.168.1.10'] });
    expect(status.phase).toBe('Pending');
    expect(status.hostIP).toBe('192.168.1.10');
    expect(status.podIP).toBeUndefined();
    expect(status.startTime).toBe('2025-01-01T12:00:00Z');
    expect(status.qosClass).toBe('BestEffort');
    expect(status.containerStatuses![0]).toMatchObject({
      name: 'app',
      state: { waiting: { reason: 'ContainerCreating' } },
      ready: false,
      restartCount: 0,
      image: 'busybox:1',
    });
    expect(condition(status.conditions, 'PodReadyToStartContainers')?.status).toBe('False');
    expect(condition(status.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
  });

  it('reports a running pod with IPs and Ready conditions', () => {
    const pod = makePod({ containers: [app] });
    const running = runtimeContainer(app, { startedAt: Date.UTC(2025, 0, 1, 11, 59, 0) });
    const status = generatePodStatus(
      pod,
      runtimeStatus(pod, [readySandbox({ ips: ['10.0.0.5', 'fd00::5'] })], [running]),
      {
        now,
        hostIPs: ['192.168.1.10'],
      },
    );
    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe('10.0.0.5');
    expect(status.podIPs).toEqual([{ ip: '10.0.0.5' }, { ip: 'fd00::5' }]);
    expect(status.containerStatuses![0]).toMatchObject({
      state: { running: { startedAt: '2025-01-01T11:59:00Z' } },
      ready: true,
      started: true,
      containerID: `containerd://${running.id}`,
      imageID: 'sha256:app',
    });
    for (const type of ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']) {
      expect(condition(status.conditions, type)?.status).toBe('True');
    }
  });

  it('uses readiness results and keeps transition times while a condition holds', () => {
    const pod = makePod({ containers: [app] });
    const running = runtimeContainer(app);
    const runtime = runtimeStatus(pod, [readySandbox()], [running]);
    const notReady = generatePodStatus(pod, runtime, { now, hostIPs: [], ready: () => false });
    expect(condition(notReady.conditions, 'ContainersReady')?.status).toBe('False');
    const later = now + 60_000;
    const still: Pod = { ...pod, status: notReady };
    const again = generatePodStatus(still, runtime, { now: later, hostIPs: [], ready: () => false });
    expect(condition(again.conditions, 'Ready')?.lastTransitionTime).toBe('2025-01-01T12:00:00Z');
    expect(again.startTime).toBe(notReady.startTime);
    const ready = generatePodStatus(still, runtime, { now: later, hostIPs: [], ready: () => true });
    expect(condition(ready.conditions, 'Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2025-01-01T12:01:00Z',
    });
  });

  it('shows CrashLoopBackOff as waiting with the last termination and restart count', () => {
    const pod = makePod({ containers: [app] });
    const previous = runtimeContainer(app, {
      state: 'exited',
      exitCode: 1,
      restartCount: 1,
      createdAt: 100,
      finishedAt: now - 5000,
    });
    const latest = runtimeContainer(app, {
      state: 'exited',
      exitCode: 2,
      restartCount: 2,
      createdAt: 200,
      finishedAt: now - 1000,
    });
    const waitingReasons = new Map([
      ['app', { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app' }],
    ]);
    const status = generatePodStatus(pod, runtimeStatus(pod, [readySandbox()], [previous, latest]), {
      now,
      hostIPs: [],
      waitingReasons,
    });
    const container = status.containerStatuses![0]!;
    expect(container.state.waiting).toEqual({
      reason: 'CrashLoopBackOff',
      message: 'back-off 20s restarting failed container=app',
    });
    expect(container.lastState.terminated).toMatchObject({
      exitCode: 2,
      reason: 'Error',
      containerID: `containerd://${latest.id}`,
    });
    expect(container.restartCount).toBe(2);
    expect(status.phase).toBe('Running');
  });

  it('computes Succeeded and Failed for pods that do not restart', () => {
    const done = (restartPolicy: 'Never' | 'OnFailure', exitCode: number) => {
      const pod = makePod({ restartPolicy, containers: [app] });
      return generatePodStatus(
        pod,
        runtimeStatus(pod, [readySandbox()], [runtimeContainer(app, { state: 'exited', exitCode })]),
        {
          now,
          hostIPs: [],
        },
      );
    };
    const succeeded = done('Never', 0);
    expect(succeeded.phase).toBe('Succeeded');
    expect(succeeded.containerStatuses![0]!.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(condition(succeeded.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
    expect(done('Never', 1).phase).toBe('Failed');
    expect(done('OnFailure', 0).phase).toBe('Succeeded');
  });

  it('keeps a terminal phase', () => {
    const pod: Pod = {
      ...makePod({ restartPolicy: 'Never', containers: [app] }),
      status: { phase: 'Failed' },
    };
    const status = generatePodStatus(pod, runtimeStatus(pod, []), { now, hostIPs: [] });
    expect(status.phase).toBe('Failed');
  });

  it('reports initialization progress with init containers and sidecars', () => {
    const init: Container = { name: 'init', image: 'busybox' };
    const sidecar: Container = { name: 'proxy', image: 'busybox', restartPolicy: 'Always' };
    const pod = makePod({ initContainers: [init, sidecar], containers: [app] });
    const initializing = generatePodStatus(
      pod,
      runtimeStatus(pod, [readySandbox()], [runtimeContainer(init)]),
      { now, hostIPs: [] },
    );
    expect(initializing.phase).toBe('Pending');
    expect(condition(initializing.conditions, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [init proxy]',
    });
    expect(initializing.containerStatuses![0]!.state.waiting?.reason).toBe('PodInitializing');
    expect(initializing.initContainerStatuses!.map((s) => s.name)).toEqual(['init', 'proxy']);

    const running = generatePodStatus(
      pod,
      runtimeStatus(
        pod,
        [readySandbox()],
        [
          runtimeContainer(init, { state: 'exited', exitCode: 0 }),
          runtimeContainer(sidecar),
          runtimeContainer(app),
        ],
      ),
      { now, hostIPs: [] },
    );
    expect(running.phase).toBe('Running');
    expect(condition(running.conditions, 'Initialized')?.status).toBe('True');
    expect(condition(running.conditions, 'Ready')?.status).toBe('True');
  });

  it('fails a restartPolicy Never pod whose init container failed', () => {
    const init: Container = { name: 'init', image: 'busybox' };
    const pod = makePod({ restartPolicy: 'Never', initContainers: [init], containers: [app] });
    const status = generatePodStatus(
      pod,
      runtimeStatus(pod, [readySandbox()], [runtimeContainer(init, { state: 'exited', exitCode: 1 })]),
      {
        now,
        hostIPs: [],
      },
    );
    expect(status.phase).toBe('Failed');
  });

  it('passes through conditions it does not own and honours readiness gates', () => {
    const pod: Pod = {
      ...makePod({ containers: [app], readinessGates: [{ conditionType: 'example.com/gate' }] }),
      status: {
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-12-31T00:00:00Z' }],
      },
    };
    const runtime = runtimeStatus(pod, [readySandbox()], [runtimeContainer(app)]);
    const status = generatePodStatus(pod, runtime, { now, hostIPs: [] });
    expect(condition(status.conditions, 'PodScheduled')).toEqual({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: '2024-12-31T00:00:00Z',
    });
    expect(condition(status.conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
    });
    const gated: Pod = {
      ...pod,
      status: { conditions: [...status.conditions!, { type: 'example.com/gate', status: 'True' }] },
    };
    expect(
      condition(generatePodStatus(gated, runtime, { now, hostIPs: [] }).conditions, 'Ready')?.status,
    ).toBe('True');
  });

  it('orders regular container statuses by name as upstream does, init ones in spec order', () => {
    const pod = makePod({
      initContainers: [
        { name: 'z-init', image: 'busybox:1' },
        { name: 'a-init', image: 'busybox:1' },
      ],
      containers: [
        { name: 'trigger', image: 'busybox:1' },
        { name: 'other', image: 'busybox:1' },
      ],
    });
    const status = generatePodStatus(pod, runtimeStatus(pod, []), { now, hostIPs: [] });
    expect(status.containerStatuses?.map((c) => c.name)).toEqual(['other', 'trigger']);
    expect(status.initContainerStatuses?.map((c) => c.name)).toEqual(['z-init', 'a-init']);
  });

  it('is deterministic for equal inputs', () => {
    const pod = makePod({ containers: [app] });
    const runtime = runtimeStatus(pod, [readySandbox()], [runtimeContainer(app)]);
    expect(generatePodStatus(pod, runtime, { now, hostIPs: ['1.2.3.4'] })).toEqual(
      generatePodStatus(pod, runtime, { now, hostIPs: ['1.2.3.4'] }),
    );
  });

  it('orders conditions as upstream: others first, then ReadyToStart, Initialized, Ready, ContainersReady, PodScheduled', () => {
    const pod: Pod = {
      ...makePod({ containers: [app] }),
      status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }] },
    };
    const status = generatePodStatus(pod, runtimeStatus(pod, [readySandbox()], [runtimeContainer(app)]), {
      now,
      hostIPs: [],
    });
    expect(status.conditions!.map((c) => c.type)).toEqual([
      'DisruptionTarget',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
    // PodScheduled is added when absent, at the time the kubelet first reports.
    expect(condition(status.conditions, 'PodScheduled')).toEqual({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: '2025-01-01T12:00:00Z',
    });
  });

  it('reports completed init containers ready, mounts of every container, resources of started ones', () => {
    const init: Container = {
      name: 'init',
      image: 'busybox:1',
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    };
    const main: Container = {
      name: 'main',
      image: 'busybox:1',
      resources: {
        limits: { cpu: '200m', memory: '64Mi' },
        requests: { cpu: '100m', memory: '32Mi', 'example.com/dongle': '1' },
      },
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ],
    };
    const waiting: Container = { name: 'waiting', image: 'busybox:1' };
    const pod = makePod({ initContainers: [init], containers: [main, waiting] });
    const runtime = runtimeStatus(
      pod,
      [readySandbox()],
      [runtimeContainer(init, { state: 'exited', exitCode: 0 }), runtimeContainer(main)],
    );
    const status = generatePodStatus(pod, runtime, { now, hostIPs: [] });
    expect(status.initContainerStatuses![0]).toMatchObject({
      ready: true,
      started: false,
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    });
    // Upstream v1.36.3 reports resources ({} without any) for an exited container too (fixture `full`).
    expect(status.initContainerStatuses![0]!.resources).toEqual({});
    const [running, notStarted] = status.containerStatuses!;
    expect(running!.volumeMounts).toEqual([
      { name: 'data', mountPath: '/data' },
      {
        name: 'token',
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        readOnly: true,
        recursiveReadOnly: 'Disabled',
      },
    ]);
    expect(running!.allocatedResources).toEqual({ cpu: '100m', memory: '32Mi', 'example.com/dongle': '1' });
    expect(running!.resources).toEqual({
      limits: { cpu: '200m', memory: '64Mi' },
      requests: { cpu: '100m', memory: '32Mi' },
    });
    expect(notStarted!.volumeMounts).toBeUndefined();
    expect(notStarted!.resources).toBeUndefined();
    // A failed init container is not ready.
    const failed = runtimeStatus(
      pod,
      [readySandbox()],
      [runtimeContainer(init, { state: 'exited', exitCode: 1 })],
    );
    expect(generatePodStatus(pod, failed, { now, hostIPs: [] }).initContainerStatuses![0]!.ready).toBe(false);
  });

  it("reports the runtime's container user as upstream (containerd 2.x reports one, 1.6 none); no empty group list", () => {
    const pod = makePod({ containers: [app, { name: 'other', image: 'busybox:1' }] });
    const user = { uid: 1000, gid: 3000, supplementalGroups: [3000, 4000] };
    const status = generatePodStatus(
      pod,
      runtimeStatus(
        pod,
        [readySandbox()],
        [
          runtimeContainer(app, { user }),
          runtimeContainer(
            { name: 'other' },
            { state: 'exited', exitCode: 1, user: { ...user, supplementalGroups: [] } },
          ),
        ],
      ),
      { now, hostIPs: [] },
    );
    expect(status.containerStatuses!.map((c) => c.user)).toEqual([
      { linux: user },
      { linux: { uid: 1000, gid: 3000 } },
    ]);
    const without = generatePodStatus(pod, runtimeStatus(pod, [readySandbox()], [runtimeContainer(app)]), {
      now,
      hostIPs: [],
    });
    expect(without.containerStatuses!.map((c) => 'user' in c)).toEqual([false, false]);
  });
});

describe('generatePodStatus: terminal conditions and generation (upstream v1.36)', () => {
  const exited = (exitCode: number) =>
    runtimeContainer(app, { state: 'exited', exitCode, finishedAt: 3_000 });

  it('a Succeeded pod: Initialized True PodCompleted, Ready and ContainersReady False PodCompleted', () => {
    const pod = makePod({ containers: [app], restartPolicy: 'Never' });
    const status = generatePodStatus(pod, runtimeStatus(pod, [], [exited(0)]), { now, hostIPs: [] });
    expect(status.phase).toBe('Succeeded');
    expect(condition(status.conditions, 'Initialized')).toMatchObject({
      status: 'True',
      reason: 'PodCompleted',
    });
    expect(condition(status.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(condition(status.conditions, 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  it('a Failed pod: Ready and ContainersReady False PodFailed, Initialized without reason', () => {
    const pod = makePod({ containers: [app], restartPolicy: 'Never' });
    const status = generatePodStatus(pod, runtimeStatus(pod, [], [exited(3)]), { now, hostIPs: [] });
    expect(status.phase).toBe('Failed');
    expect(condition(status.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    expect(condition(status.conditions, 'ContainersReady')?.reason).toBe('PodFailed');
    expect(condition(status.conditions, 'Initialized')?.reason).toBeUndefined();
  });

  it("carries metadata.generation as status.observedGeneration and on the kubelet's conditions only", () => {
    const pod = makePod({ containers: [app], readinessGates: [{ conditionType: 'example.com/gate' }] });
    pod.metadata.generation = 3;
    pod.status = {
      conditions: [{ type: 'example.com/gate', status: 'True', lastTransitionTime: '2025-01-01T11:00:00Z' }],
    };
    const status = generatePodStatus(pod, runtimeStatus(pod, []), { now, hostIPs: [] });
    expect(status.observedGeneration).toBe(3);
    for (const type of [
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ])
      expect(condition(status.conditions, type)?.observedGeneration).toBe(3);
    expect(condition(status.conditions, 'example.com/gate')?.observedGeneration).toBeUndefined();
    // Without a generation (standalone pods) there is nothing to observe.
    const standalone = generatePodStatus(makePod({ containers: [app] }), runtimeStatus(pod, []), {
      now,
      hostIPs: [],
    });
    expect(standalone.observedGeneration).toBeUndefined();
  });

  it('a rejected pod reports no container statuses and no kubelet conditions', () => {
    const pod = makePod({ containers: [app] });
    pod.metadata.generation = 1;
    pod.status = generatePodStatus(pod, runtimeStatus(pod, []), { now, hostIPs: [] });
    const rejected = rejectedPodStatus(pod, 'SysctlForbidden', 'Pod was rejected: forbidden sysctl', now);
    expect(rejected).toEqual({
      observedGeneration: 1,
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl',
      startTime: '2025-01-01T12:00:00Z',
      qosClass: 'BestEffort',
      hostIP: undefined,
      hostIPs: [],
    });
    expect(isRejectedPodStatus(rejected)).toBe(true);
    expect(isRejectedPodStatus(pod.status)).toBe(false);
  });
});
