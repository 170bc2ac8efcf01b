import { describe, expect, it } from 'vitest';
import type { Container } from '../src/api/pod-types';
import { computePodActions } from '../src/pod/compute-pod-actions';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

const app: Container = { name: 'app', image: 'busybox' };
const sidecarless = makePod({ containers: [app, { name: 'log', image: 'busybox' }] });

describe('computePodActions: sandbox', () => {
  it('creates a sandbox (attempt 0) and starts every container for a new pod', () => {
    const actions = computePodActions(sidecarless, runtimeStatus(sidecarless, []));
    expect(actions).toMatchObject({
      createSandbox: true,
      killPod: true,
      attempt: 0,
      containersToStart: [0, 1],
    });
    expect(actions.initContainersToStart).toEqual([]);
  });

  it('re-creates a dead sandbox with the next attempt and restarts from the first init container', () => {
    const pod = makePod({ initContainers: [{ name: 'init', image: 'busybox' }], containers: [app] });
    const status = runtimeStatus(
      pod,
      [readySandbox({ ready: false, attempt: 2 })],
      [runtimeContainer(app, { state: 'exited', exitCode: 137 })],
    );
    const actions = computePodActions(pod, status);
    expect(actions).toMatchObject({
      createSandbox: true,
      killPod: true,
      attempt: 3,
      sandboxId: 'sb-1',
      initContainersToStart: [0],
      containersToStart: [],
    });
  });

  it('re-creates a sandbox that lost its IP', () => {
    const status = runtimeStatus(sidecarless, [readySandbox({ ips: [] })]);
    expect(computePodActions(sidecarless, status).createSandbox).toBe(true);
  });

  it('does not re-create the sandbox of a finished restartPolicy Never pod', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [app] });
    const status = runtimeStatus(
      pod,
      [readySandbox({ ready: false })],
      [runtimeContainer(app, { state: 'exited', exitCode: 1 })],
    );
    const actions = computePodActions(pod, status);
    expect(actions.createSandbox).toBe(false);
    expect(actions.killPod).toBe(true);
  });

  it('skips succeeded containers of an OnFailure pod when the sandbox is re-created', () => {
    const pod = makePod({ restartPolicy: 'OnFailure', containers: [app, { name: 'job', image: 'busybox' }] });
    const status = runtimeStatus(
      pod,
      [readySandbox({ ready: false })],
      [
        runtimeContainer(app, { state: 'exited', exitCode: 0 }),
        runtimeContainer({ name: 'job', image: 'busybox' }, { state: 'exited', exitCode: 2 }),
      ],
    );
    expect(computePodActions(pod, status).containersToStart).toEqual([1]);
  });
});

describe('computePodActions: containers', () => {
  it('does nothing for a healthy running pod', () => {
    const status = runtimeStatus(
      sidecarless,
      [readySandbox()],
      [runtimeContainer(app), runtimeContainer({ name: 'log', image: 'busybox' })],
    );
    const actions = computePodActions(sidecarless, status);
    expect(actions).toMatchObject({
      createSandbox: false,
      killPod: false,
      containersToStart: [],
      containersToKill: [],
    });
  });

  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 1, false],
  ] as const)('restartPolicy %s, exit code %i: restart=%s', (restartPolicy, exitCode, restart) => {
    const pod = makePod({ restartPolicy, containers: [app, { name: 'other', image: 'busybox' }] });
    const status = runtimeStatus(
      pod,
      [readySandbox()],
      [
        runtimeContainer(app, { state: 'exited', exitCode }),
        runtimeContainer({ name: 'other', image: 'busybox' }),
      ],
    );
    expect(computePodActions(pod, status).containersToStart).toEqual(restart ? [0] : []);
  });

  it('kills the pod when nothing runs and nothing will restart', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [app] });
    const status = runtimeStatus(
      pod,
      [readySandbox()],
      [runtimeContainer(app, { state: 'exited', exitCode: 0 })],
    );
    const actions = computePodActions(pod, status);
    expect(actions.killPod).toBe(true);
    expect(actions.containersToStart).toEqual([]);
  });

  it('kills and restarts a container whose image changed (the hash covers its name and image)', () => {
    const running = runtimeContainer(app);
    const changed = makePod({ containers: [{ ...app, image: `${app.image}-v2` }] });
    const actions = computePodActions(changed, runtimeStatus(changed, [readySandbox()], [running]));
    expect(actions.containersToKill).toEqual([
      {
        containerId: running.id,
        name: 'app',
        reason: 'SpecChanged',
        message: 'Container app definition changed, will be restarted',
      },
    ]);
    expect(actions.containersToStart).toEqual([0]);
  });

  it('kills a container failing its liveness probe, restarting unless restartPolicy is Never', () => {
    const running = runtimeContainer(app);
    const probes = { livenessFailed: (id: string) => id === running.id };
    const pod = makePod({ containers: [app] });
    const restart = computePodActions(pod, runtimeStatus(pod, [readySandbox()], [running]), probes);
    expect(restart.containersToKill[0]).toMatchObject({ reason: 'LivenessProbe' });
    expect(restart.containersToStart).toEqual([0]);
    const never = makePod({ restartPolicy: 'Never', containers: [app] });
    const noRestart = computePodActions(never, runtimeStatus(never, [readySandbox()], [running]), probes);
    expect(noRestart.containersToKill).toHaveLength(1);
    expect(noRestart.containersToStart).toEqual([]);
    expect(noRestart.killPod).toBe(true);
  });

  it('kills an unknown-state container before restarting it', () => {
    const unknown = runtimeContainer(app, { state: 'unknown' });
    const pod = makePod({ containers: [app] });
    const actions = computePodActions(pod, runtimeStatus(pod, [readySandbox()], [unknown]));
    expect(actions.containersToKill.map((k) => k.containerId)).toEqual([unknown.id]);
    expect(actions.containersToStart).toEqual([0]);
  });
});

describe('computePodActions: init containers and sidecars', () => {
  const init1: Container = { name: 'init-1', image: 'busybox' };
  const init2: Container = { name: 'init-2', image: 'busybox' };
  const sidecar: Container = { name: 'proxy', image: 'busybox', restartPolicy: 'Always' };

  it('runs regular init containers one at a time, in order', () => {
    const pod = makePod({ initContainers: [init1, init2], containers: [app] });
    const sandbox = [readySandbox()];
    const first = computePodActions(pod, runtimeStatus(pod, sandbox));
    expect(first.initContainersToStart).toEqual([0]);
    const running = computePodActions(pod, runtimeStatus(pod, sandbox, [runtimeContainer(init1)]));
    expect(running.initContainersToStart).toEqual([]);
    expect(running.containersToStart).toEqual([]);
    const second = computePodActions(
      pod,
      runtimeStatus(pod, sandbox, [runtimeContainer(init1, { state: 'exited', exitCode: 0 })]),
    );
    expect(second.initContainersToStart).toEqual([1]);
    const done = computePodActions(
      pod,
      runtimeStatus(pod, sandbox, [
        runtimeContainer(init1, { state: 'exited', exitCode: 0 }),
        runtimeContainer(init2, { state: 'exited', exitCode: 0 }),
      ]),
    );
    expect(done.initContainersToStart).toEqual([]);
    expect(done.containersToStart).toEqual([0]);
  });

  it('retries a failed init container, or fails the pod when restartPolicy is Never', () => {
    const failed = (restartPolicy: 'Always' | 'Never') => {
      const pod = makePod({ restartPolicy, initContainers: [init1], containers: [app] });
      return computePodActions(
        pod,
        runtimeStatus(pod, [readySandbox()], [runtimeContainer(init1, { state: 'exited', exitCode: 3 })]),
      );
    };
    expect(failed('Always')).toMatchObject({
      killPod: false,
      initContainersToStart: [0],
      containersToStart: [],
    });
    expect(failed('Never')).toMatchObject({ killPod: true, initContainersToStart: [] });
  });

  it('starts a sidecar and waits for it to be started before the next init container', () => {
    const pod = makePod({ initContainers: [sidecar, init1], containers: [app] });
    const sandbox = [readySandbox()];
    expect(computePodActions(pod, runtimeStatus(pod, sandbox)).initContainersToStart).toEqual([0]);
    const proxy = runtimeContainer(sidecar);
    const notStarted = computePodActions(pod, runtimeStatus(pod, sandbox, [proxy]), { started: () => false });
    expect(notStarted.initContainersToStart).toEqual([]);
    const started = computePodActions(pod, runtimeStatus(pod, sandbox, [proxy]), { started: () => true });
    expect(started.initContainersToStart).toEqual([1]);
    const initialized = computePodActions(
      pod,
      runtimeStatus(pod, sandbox, [proxy, runtimeContainer(init1, { state: 'exited', exitCode: 0 })]),
    );
    expect(initialized.containersToStart).toEqual([0]);
  });

  it('restarts a sidecar that died after initialization, even with restartPolicy Never', () => {
    const pod = makePod({ restartPolicy: 'Never', initContainers: [sidecar], containers: [app] });
    const status = runtimeStatus(
      pod,
      [readySandbox()],
      [runtimeContainer(sidecar, { state: 'exited', exitCode: 1 }), runtimeContainer(app)],
    );
    const actions = computePodActions(pod, status);
    expect(actions.initContainersToStart).toEqual([0]);
    expect(actions.killPod).toBe(false);
  });

  it('does not let a sidecar keep a finished pod alive', () => {
    const pod = makePod({ restartPolicy: 'Never', initContainers: [sidecar], containers: [app] });
    const status = runtimeStatus(
      pod,
      [readySandbox()],
      [runtimeContainer(sidecar), runtimeContainer(app, { state: 'exited', exitCode: 0 })],
    );
    const actions = computePodActions(pod, status);
    expect(actions.killPod).toBe(true);
    expect(actions.initContainersToStart).toEqual([]);
  });
});
