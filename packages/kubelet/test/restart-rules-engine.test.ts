import { ContainerState } from '@nodeagent/cri-client/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

/**
 * Container restart rules (KEP-5307) and RestartAllContainers (KEP-5532) through the whole
 * kubelet on the fake CRI runtime: the fixture pods `restart-rules` and `restart-all`
 * (fidelity/pods-v1.36) with what upstream v1.36.3 made of them
 * (fidelity/pod-status-v1.36: statuses, conditions, events).
 */
type Recorded = { pod: string; type: string; reason: string; message: string; fieldPath?: string };

let h: EngineHarness;
let events: Recorded[];
beforeEach(async () => {
  events = [];
  h = await startEngine({
    api: {
      recordEvent: (pod, type, reason, message, fieldPath) =>
        events.push({ pod: pod.metadata.name ?? '', type, reason, message, fieldPath }),
    },
  });
});
afterEach(async () => h.close());

const sleepForever = ['sh', '-c', 'sleep 3600'];

async function containerId(name: string): Promise<string> {
  const { containers } = await h.client.listContainers({});
  const running = containers.filter(
    (c) => c.labels['io.kubernetes.container.name'] === name && c.state === ContainerState.CONTAINER_RUNNING,
  );
  expect(running).toHaveLength(1);
  return running[0]!.id;
}

/** The container's exit reaches the kubelet through a relist, as the PLEG would see it. */
async function exitAndSync(name: string, exitCode: number): Promise<void> {
  h.fake.exitContainer(await containerId(name), exitCode);
  await h.kubelet.pleg.relist();
  await h.kubelet.settle();
}

function status(pod: Pod) {
  return h.kubelet.getPodStatus(pod.metadata.uid!)!;
}

describe('container restart rules on the fake CRI (upstream v1.36)', () => {
  it('restart-rules: exit 42 restarts the container under its rule though the pod never restarts', async () => {
    const c: Container = {
      name: 'c',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Never',
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
    };
    const pod = testPod({ restartPolicy: 'Never', containers: [c] }, 'restart-rules');
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    await exitAndSync('c', 42);

    const after = status(pod);
    expect(after.phase).toBe('Running');
    const cs = after.containerStatuses![0]!;
    expect(cs.restartCount).toBe(1);
    expect(cs.state.running).toBeDefined();
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 42, reason: 'Error' });
    expect(cs.lastState.terminated?.containerID).toMatch(/^containerd:\/\//);
    expect(after.conditions!.map((x) => x.type)).not.toContain('AllContainersRestarting');
    // Created and Started twice, as upstream's events (count 2).
    const started = events.filter((e) => e.pod === 'restart-rules' && e.reason === 'Started');
    expect(started).toHaveLength(2);
    expect(started[1]).toMatchObject({ message: 'Container started', fieldPath: 'spec.containers{c}' });
  });

  it('restart-rules: an exit no rule matches follows restartPolicy Never: the pod fails', async () => {
    const c: Container = {
      name: 'c',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Never',
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
    };
    const pod = testPod({ restartPolicy: 'Never', containers: [c] });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    await exitAndSync('c', 1);
    const after = status(pod);
    expect(after.phase).toBe('Failed');
    expect(after.containerStatuses![0]!.restartCount).toBe(0);
    expect(after.containerStatuses![0]!.state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
  });

  it('a container restartPolicy OnFailure in a pod that never restarts: a failure restarts it, success ends it', async () => {
    const c: Container = { name: 'c', image: busybox, command: sleepForever, restartPolicy: 'OnFailure' };
    const pod = testPod({ restartPolicy: 'Never', containers: [c] });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    await exitAndSync('c', 3);
    expect(status(pod).phase).toBe('Running');
    expect(status(pod).containerStatuses![0]!.restartCount).toBe(1);
    await exitAndSync('c', 0);
    expect(status(pod).phase).toBe('Succeeded');
  });

  it('restart-all: trigger exits 88, both containers are removed and start again in place', async () => {
    const trigger: Container = {
      name: 'trigger',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Always',
      restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'In', values: [88] } }],
    };
    // KEP-5532: the grace period is not honoured for an in-place restart, so no preStop hook.
    const other: Container = {
      name: 'other',
      image: busybox,
      command: sleepForever,
      lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } },
    };
    const pod = testPod({ containers: [trigger, other] }, 'restart-all');
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const first = status(pod);
    expect(first.conditions!.find((x) => x.type === 'AllContainersRestarting')).toEqual({
      type: 'AllContainersRestarting',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: expect.any(String),
    });
    const before = [await containerId('trigger'), await containerId('other')];

    // The sync that sees the exit removes everything; the status it writes reports the restart.
    h.fake.exitContainer(before[0]!, 88);
    const writes = h.writer.patches.length;
    await h.kubelet.pleg.relist();
    await h.kubelet.settle();
    const restarting = h.writer.patches
      .slice(writes)
      .map((p) => p.status)
      .find((s) => s.conditions?.some((x) => x.type === 'AllContainersRestarting' && x.status === 'True'));
    expect(restarting).toBeDefined();
    const condition = restarting!.conditions!.find((x) => x.type === 'AllContainersRestarting')!;
    expect(condition).toEqual({
      type: 'AllContainersRestarting',
      status: 'True',
      reason: 'RestartAllContainersStarted',
      message: 'container exited with restart policy rule',
      lastProbeTime: null,
      lastTransitionTime: expect.any(String),
    });
    expect(restarting!.phase).toBe('Running');
    const removedTerminated = {
      exitCode: 137,
      reason: 'RestartingAllContainers',
      message: 'The container is removed because RestartAllContainers in place',
      startedAt: null,
      finishedAt: null,
    };
    for (const cs of restarting!.containerStatuses!) {
      expect(cs.state).toEqual({
        waiting: {
          reason: 'RestartingAllContainers',
          message: 'The container is removed because RestartAllContainers in place',
        },
      });
      expect(cs.lastState).toEqual({ terminated: removedTerminated });
      expect(cs.restartCount).toBe(1);
    }

    // The next sync found nothing left and started both again: new containers, as upstream.
    const after = status(pod);
    expect(after.phase).toBe('Running');
    const { containers } = await h.client.listContainers({});
    expect(containers.map((c) => c.id).filter((id) => before.includes(id))).toEqual([]);
    expect(containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING)).toHaveLength(2);
    for (const name of ['trigger', 'other']) {
      const cs = after.containerStatuses!.find((s) => s.name === name)!;
      expect(cs.state.running).toBeDefined();
      expect(cs.ready).toBe(true);
      expect(cs.restartCount).toBe(1);
      expect(cs.lastState).toEqual({ terminated: removedTerminated });
      expect(cs.containerID).toBeDefined();
    }
    const finalCondition = after.conditions!.find((x) => x.type === 'AllContainersRestarting')!;
    expect(finalCondition).toMatchObject({ status: 'False' });
    expect(finalCondition).not.toHaveProperty('observedGeneration');
    expect(finalCondition).not.toHaveProperty('reason');

    expect(h.fake.calls).not.toContain('ExecSync');
    // One Killing event, on the container still running, with upstream's message.
    const ofPod = events.filter((e) => e.pod === 'restart-all');
    expect(ofPod.filter((e) => e.reason === 'Killing')).toEqual([
      {
        pod: 'restart-all',
        type: 'Normal',
        reason: 'Killing',
        message: 'killing',
        fieldPath: 'spec.containers{other}',
      },
    ]);
    for (const name of ['trigger', 'other'])
      expect(
        ofPod.filter((e) => e.reason === 'Started' && e.fieldPath === `spec.containers{${name}}`),
      ).toHaveLength(2);
  });

  it('restart-all with an init container: it runs again, the pod stays Initialized throughout', async () => {
    const trigger: Container = {
      name: 'trigger',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Always',
      restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'In', values: [88] } }],
    };
    const setup: Container = { name: 'setup', image: busybox, command: ['sh', '-c', 'echo ready'] };
    const pod = testPod({ initContainers: [setup], containers: [trigger] }, 'restart-all-init');
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(status(pod).phase).toBe('Running');
    const writes = h.writer.patches.length;
    await exitAndSync('trigger', 88);
    await h.settleThroughRelists();

    const written = h.writer.patches.slice(writes).map((p) => p.status);
    expect(written.length).toBeGreaterThan(0);
    // Upstream getPhase: the removed init container waits with a last termination (never
    // pending), so the pod stays Running while the restart removes its containers.
    const resetting = written.find((s) =>
      s.conditions?.some((c) => c.type === 'AllContainersRestarting' && c.status === 'True'),
    );
    expect(resetting?.initContainerStatuses?.[0]?.state.waiting?.reason).toBe('RestartingAllContainers');
    expect(resetting?.phase).toBe('Running');
    for (const s of written) {
      expect(s.conditions!.find((c) => c.type === 'Initialized')?.status).toBe('True');
      expect(s.phase).not.toMatch(/Succeeded|Failed/);
    }
    const init = status(pod).initContainerStatuses![0]!;
    expect(init.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(init.restartCount).toBe(1);
    expect(status(pod).containerStatuses![0]).toMatchObject({ restartCount: 1, ready: true });
    expect(
      events.filter(
        (e) =>
          e.pod === 'restart-all-init' &&
          e.reason === 'Started' &&
          e.fieldPath === 'spec.initContainers{setup}',
      ),
    ).toHaveLength(2);
  });

  it('restart-all: a trigger that keeps exiting restarts the pod every time, with no back-off (as upstream)', async () => {
    // Upstream v1.36 resets on the sync after the exit and checks no back-off on that path; the
    // fresh start finds no exited instance in the runtime (all removed), so doBackOff lets it
    // through. The engine's clock never moves here: any back-off would hold the restart.
    const trigger: Container = {
      name: 'trigger',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Always',
      restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'In', values: [88] } }],
    };
    const other: Container = { name: 'other', image: busybox, command: sleepForever };
    const pod = testPod({ containers: [trigger, other] }, 'restart-all-loop');
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const frozenAt = h.clock.now();
    for (let round = 1; round <= 3; round++) {
      await exitAndSync('trigger', 88);
      await h.settleThroughRelists();
      for (const name of ['trigger', 'other']) {
        const cs = status(pod).containerStatuses!.find((s) => s.name === name)!;
        expect(cs.state.running).toBeDefined();
        expect(cs.restartCount).toBe(round);
      }
    }
    expect(h.clock.now()).toBe(frozenAt);
    const ofPod = events.filter((e) => e.pod === 'restart-all-loop');
    expect(ofPod.filter((e) => e.reason === 'BackOff')).toEqual([]);
    expect(
      ofPod.filter((e) => e.reason === 'Started' && e.fieldPath === 'spec.containers{other}'),
    ).toHaveLength(4);

    // The crash-loop back-off still guards the container's own restarts: a plain failure
    // (no rule matches) restarts once at once, the next one within the back-off waits.
    await exitAndSync('trigger', 1);
    await h.settleThroughRelists();
    expect(status(pod).containerStatuses!.find((s) => s.name === 'trigger')!.state.running).toBeDefined();
    await exitAndSync('trigger', 1);
    await h.settleThroughRelists();
    // Held back, it reports the exit as its state (upstream v1.36: the sync that meets the
    // back-off is the last one until it ends), with the BackOff event.
    const held = status(pod).containerStatuses!.find((s) => s.name === 'trigger')!;
    expect(held.state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(ofPod.filter((e) => e.reason === 'BackOff')).toEqual([]);
    expect(events.filter((e) => e.pod === 'restart-all-loop' && e.reason === 'BackOff')).toHaveLength(1);
  });

  it('restart-all: an exit code no rule matches restarts only that container', async () => {
    const trigger: Container = {
      name: 'trigger',
      image: busybox,
      command: sleepForever,
      restartPolicy: 'Always',
      restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'In', values: [88] } }],
    };
    const other: Container = { name: 'other', image: busybox, command: sleepForever };
    const pod = testPod({ containers: [trigger, other] });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const otherId = await containerId('other');
    await exitAndSync('trigger', 1);
    const after = status(pod);
    expect(await containerId('other')).toBe(otherId);
    expect(after.containerStatuses!.find((s) => s.name === 'trigger')).toMatchObject({ restartCount: 1 });
    expect(after.containerStatuses!.find((s) => s.name === 'other')).toMatchObject({ restartCount: 0 });
    expect(after.conditions!.find((x) => x.type === 'AllContainersRestarting')?.status).toBe('False');
  });
});
