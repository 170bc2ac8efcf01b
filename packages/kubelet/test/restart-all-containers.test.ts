import { describe, expect, it } from 'vitest';
import type { Container, ContainerStatus, Pod } from '../src/api/pod-types';
import { computePodActions } from '../src/pod/compute-pod-actions';
import {
  allContainersCouldRestart,
  containersToReset,
  isRestartingAllContainers,
  shouldAllContainersRestart,
} from '../src/pod/restart-all-containers';
import { generatePodStatus } from '../src/status/generate-pod-status';
import { podPhase } from '../src/status/pod-phase';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

// The fixture's restart-all pod (fidelity/pods-v1.36) plus an init container.
const trigger: Container = {
  name: 'trigger',
  image: 'busybox',
  restartPolicy: 'Always',
  restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'In', values: [88] } }],
};
const other: Container = { name: 'other', image: 'busybox' };
const init: Container = { name: 'init', image: 'busybox' };
const restartAll = makePod({ initContainers: [init], containers: [trigger, other] });

function statusOf(
  name: string,
  state: ContainerStatus['state'],
  lastState: ContainerStatus['lastState'] = {},
) {
  return { name, state, lastState, ready: false, restartCount: 0, image: 'busybox', imageID: '' };
}

describe('RestartAllContainers decisions (upstream ShouldAllContainersRestart, getContainersToReset)', () => {
  const initDone = runtimeContainer(init, { state: 'exited', exitCode: 0 });
  const otherRunning = runtimeContainer(other);

  it('only pods with a RestartAllContainers rule could restart all containers', () => {
    expect(allContainersCouldRestart(restartAll)).toBe(true);
    expect(allContainersCouldRestart(makePod({ containers: [other] }))).toBe(false);
  });

  it('an exit the rule matches removes every instance, running ones stopped, the trigger last', () => {
    const exited = runtimeContainer(trigger, { state: 'exited', exitCode: 88 });
    const status = runtimeStatus(restartAll, [readySandbox()], [initDone, exited, otherRunning]);
    expect(isRestartingAllContainers(restartAll, status)).toBe(true);
    expect(containersToReset(restartAll, status)).toEqual([
      { containerId: initDone.id, name: 'init', kill: false },
      { containerId: otherRunning.id, name: 'other', kill: true },
      { containerId: exited.id, name: 'trigger', kill: false },
    ]);
    const actions = computePodActions(restartAll, status);
    expect(actions.containersToRemove).toEqual(containersToReset(restartAll, status));
    expect(actions).toMatchObject({
      createSandbox: false,
      killPod: false,
      containersToStart: [],
      initContainersToStart: [],
      containersToKill: [],
    });
  });

  it('an exit no rule matches restarts only that container (its own restartPolicy Always)', () => {
    const exited = runtimeContainer(trigger, { state: 'exited', exitCode: 1 });
    const status = runtimeStatus(restartAll, [readySandbox()], [initDone, exited, otherRunning]);
    expect(shouldAllContainersRestart(restartAll, status)).toBe(false);
    const actions = computePodActions(restartAll, status);
    expect(actions.containersToRemove).toEqual([]);
    expect(actions.containersToStart).toEqual([0]);
  });

  it('the condition True keeps the removal going; once nothing is left the pod starts from its init container', () => {
    const marked: Pod = {
      ...restartAll,
      status: { conditions: [{ type: 'AllContainersRestarting', status: 'True' }] },
    };
    const half = runtimeStatus(marked, [readySandbox()], [otherRunning]);
    expect(computePodActions(marked, half).containersToRemove).toEqual([
      { containerId: otherRunning.id, name: 'other', kill: true },
    ]);
    const empty = runtimeStatus(marked, [readySandbox()], []);
    expect(isRestartingAllContainers(marked, empty)).toBe(false);
    const actions = computePodActions(marked, empty);
    expect(actions.containersToRemove).toEqual([]);
    expect(actions.initContainersToStart).toEqual([0]);
  });

  it('the last status showing the trigger terminated into its rule counts too', () => {
    const reported: Pod = {
      ...restartAll,
      status: { containerStatuses: [statusOf('trigger', { terminated: { exitCode: 88 } })] },
    };
    const status = runtimeStatus(reported, [readySandbox()], [otherRunning]);
    expect(shouldAllContainersRestart(reported, status)).toBe(true);
  });
});

describe('container restart rules in computePodActions (upstream ContainerShouldRestart)', () => {
  const ruled: Container = {
    name: 'c',
    image: 'busybox',
    restartPolicy: 'Never',
    restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
  };
  const never = makePod({ restartPolicy: 'Never', containers: [ruled] });

  it('restarts on the rule, not on another exit, whatever the pod restartPolicy', () => {
    const on42 = runtimeStatus(
      never,
      [readySandbox()],
      [runtimeContainer(ruled, { state: 'exited', exitCode: 42 })],
    );
    expect(computePodActions(never, on42).containersToStart).toEqual([0]);
    const on1 = runtimeStatus(
      never,
      [readySandbox()],
      [runtimeContainer(ruled, { state: 'exited', exitCode: 1 })],
    );
    const actions = computePodActions(never, on1);
    expect(actions.containersToStart).toEqual([]);
    expect(actions.killPod).toBe(true);
  });

  it('a failed init container with its own restartPolicy OnFailure runs again in a pod that never restarts', () => {
    const setup: Container = { name: 'setup', image: 'busybox', restartPolicy: 'OnFailure' };
    const pod = makePod({ restartPolicy: 'Never', initContainers: [setup], containers: [other] });
    const failed = runtimeContainer(setup, { state: 'exited', exitCode: 1 });
    const actions = computePodActions(pod, runtimeStatus(pod, [readySandbox()], [failed]));
    expect(actions.killPod).toBe(false);
    expect(actions.initContainersToStart).toEqual([0]);
    const initStatus = statusOf('setup', { terminated: { exitCode: 1 } });
    expect(podPhase(pod, [initStatus], [])).toBe('Pending');
    const plain = makePod({ restartPolicy: 'Never', initContainers: [init], containers: [other] });
    const initFailed = runtimeContainer(init, { state: 'exited', exitCode: 1 });
    expect(computePodActions(plain, runtimeStatus(plain, [readySandbox()], [initFailed])).killPod).toBe(true);
    expect(podPhase(plain, [statusOf('init', { terminated: { exitCode: 1 } })], [])).toBe('Failed');
  });

  it('a container restartPolicy Never in an Always pod is not restarted after a liveness kill', () => {
    const once: Container = { name: 'c', image: 'busybox', restartPolicy: 'Never' };
    const pod = makePod({ containers: [once, other] });
    const running = runtimeContainer(once);
    const status = runtimeStatus(pod, [readySandbox()], [running, runtimeContainer(other)]);
    const actions = computePodActions(pod, status, { livenessFailed: (id) => id === running.id });
    expect(actions.containersToKill).toEqual([
      expect.objectContaining({
        name: 'c',
        reason: 'LivenessProbe',
        message: 'Container c failed liveness probe',
      }),
    ]);
    expect(actions.containersToStart).toEqual([]);
  });
});

describe('pod phase and the AllContainersRestarting condition (upstream getPhase, GenerateAllContainersRestartingCondition)', () => {
  const ruled: Container = {
    name: 'c',
    image: 'busybox',
    restartPolicy: 'Never',
    restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
  };
  const never = makePod({ restartPolicy: 'Never', containers: [ruled] });

  it('a pod that never restarts stays Running while a rule restarts its container, fails otherwise', () => {
    const backingOff = statusOf(
      'c',
      { waiting: { reason: 'CrashLoopBackOff' } },
      { terminated: { exitCode: 42 } },
    );
    expect(podPhase(never, [], [backingOff])).toBe('Running');
    expect(podPhase(never, [], [statusOf('c', { terminated: { exitCode: 42 } })])).toBe('Running');
    expect(podPhase(never, [], [statusOf('c', { terminated: { exitCode: 1 } })])).toBe('Failed');
    expect(podPhase(never, [], [statusOf('c', { terminated: { exitCode: 0 } })])).toBe('Succeeded');
  });

  it('a container restartPolicy Always keeps a Never pod running after it exits 0', () => {
    const always: Container = { name: 'c', image: 'busybox', restartPolicy: 'Always' };
    const pod = makePod({ restartPolicy: 'Never', containers: [always] });
    expect(podPhase(pod, [], [statusOf('c', { terminated: { exitCode: 0 } })])).toBe('Running');
  });

  it('containers removed by RestartAllContainers keep a Never pod running', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [{ ...trigger, restartPolicy: 'Never' }] });
    const removed = statusOf(
      'trigger',
      { waiting: { reason: 'RestartingAllContainers' } },
      { terminated: { exitCode: 137 } },
    );
    expect(podPhase(pod, [], [removed])).toBe('Running');
    // Upstream getPhase: a removed init container waits with a last termination, which is never
    // pending; its RestartingAllContainers reason keeps it from failing the Never pod. So the pod
    // stays Running while the restart removes everything...
    const withInit = { ...pod, spec: { ...pod.spec, initContainers: [init] } };
    const initRemoved = { ...removed, name: 'init' };
    expect(podPhase(withInit, [initRemoved], [removed])).toBe('Running');
    // ...(the same when the status reads it from the termination alone, as upstream does)...
    const terminatedOnly = statusOf(
      'init',
      { waiting: { reason: 'PodInitializing' } },
      { terminated: { exitCode: 137, reason: 'RestartingAllContainers' } },
    );
    expect(podPhase(withInit, [terminatedOnly], [removed])).toBe('Running');
    // ...and is Pending again once the init container runs anew, Running when it is done.
    const initRunning = statusOf('init', { running: {} }, { terminated: { exitCode: 137 } });
    expect(podPhase(withInit, [initRunning], [removed])).toBe('Pending');
    const initDone = statusOf('init', { terminated: { exitCode: 0 } });
    expect(podPhase(withInit, [initDone], [removed])).toBe('Running');
    // A plain failed init container still fails the Never pod.
    const initFailed = statusOf(
      'init',
      { waiting: { reason: 'CrashLoopBackOff' } },
      { terminated: { exitCode: 1 } },
    );
    expect(podPhase(withInit, [initFailed], [removed])).toBe('Failed');
  });

  it('a finished pod reports the condition False with PodCompleted or PodFailed, others never get it', () => {
    const pod = makePod({
      restartPolicy: 'Never',
      containers: [{ ...trigger, restartPolicy: 'Never' }],
    });
    const inputs = { now: Date.parse('2026-11-24T01:00:00Z'), hostIPs: ['10.0.0.1'] };
    const done = (exitCode: number) =>
      generatePodStatus(
        pod,
        runtimeStatus(pod, [readySandbox()], [runtimeContainer(trigger, { state: 'exited', exitCode })]),
        inputs,
      );
    const succeeded = done(0);
    expect(succeeded.phase).toBe('Succeeded');
    expect(succeeded.conditions!.find((c) => c.type === 'AllContainersRestarting')).toEqual({
      type: 'AllContainersRestarting',
      status: 'False',
      reason: 'PodCompleted',
      lastProbeTime: null,
      lastTransitionTime: '2026-11-24T01:00:00Z',
    });
    const failed = done(3);
    expect(failed.phase).toBe('Failed');
    expect(failed.conditions!.find((c) => c.type === 'AllContainersRestarting')?.reason).toBe('PodFailed');
    const plain = makePod({ containers: [other] });
    const status = generatePodStatus(
      plain,
      runtimeStatus(plain, [readySandbox()], [runtimeContainer(other)]),
      inputs,
    );
    expect(status.conditions!.map((c) => c.type)).not.toContain('AllContainersRestarting');
  });
});
