import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { podIdentityFromLabels } from '../src/cri/labels';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
beforeEach(async () => {
  h = await startEngine();
});
afterEach(async () => {
  await h.close();
});

/**
 * The harness again, its kubelet reading CRI container events (the EventedPLEG gate, off by
 * default), with `fields` added to its configuration.
 */
async function restartWithContainerEvents(
  fields: Record<string, unknown> = {},
): Promise<() => Promise<void>> {
  await h.close();
  const logs = await mkdtemp(join(tmpdir(), `na-kubelet-evented-${process.pid}-`));
  h = await startEngine({
    config: parseKubeletConfiguration({ ...fields, podLogsDir: logs, featureGates: { EventedPLEG: true } })
      .config,
  });
  return () => rm(logs, { recursive: true, force: true });
}

/**
 * A pod whose one container exits 3 at once; its container status, and `touch` to change its
 * labels (a sync of its own while a back-off runs).
 */
function crashingPod() {
  const pod = testPod({ containers: [{ name: 'crash', image: busybox, command: ['sh', '-c', 'exit 3'] }] });
  const uid = pod.metadata.uid!;
  const crash = () => h.kubelet.getPodStatus(uid)!.containerStatuses![0]!;
  let touches = 0;
  const touch = () =>
    h.kubelet.updatePod({ ...pod, metadata: { ...pod.metadata, labels: { touched: String(++touches) } } });
  return { pod, uid, crash, touch };
}

async function runtimeContainers() {
  const { containers } = await h.client.listContainers({});
  return containers;
}

describe('Kubelet on the fake CRI runtime', () => {
  it('runs a pod to Running with an IP and labels its sandbox and container', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status.phase).toBe('Running');
    expect(status.podIP).toMatch(/^10\.88\./);
    expect(status.hostIP).toBe('192.168.50.2');
    expect(status.containerStatuses![0]).toMatchObject({
      name: 'app',
      ready: true,
      started: true,
      restartCount: 0,
    });
    expect(status.containerStatuses![0]!.state.running).toBeDefined();
    expect(status.conditions!.find((c) => c.type === 'Ready')?.status).toBe('True');
    const { items } = await h.client.listPodSandbox({});
    expect(items).toHaveLength(1);
    expect(podIdentityFromLabels(items[0]!.labels)).toEqual({
      name: pod.metadata.name,
      namespace: 'default',
      uid: pod.metadata.uid,
    });
    const containers = await runtimeContainers();
    expect(containers).toHaveLength(1);
    expect(containers[0]!.labels['io.kubernetes.container.name']).toBe('app');
    // The API saw the final status.
    expect(h.writer.last(pod.metadata.uid!)?.phase).toBe('Running');
  });

  it('writes status only when it changes', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const writes = h.writer.patches.length;
    expect(writes).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) h.kubelet.updatePod(pod);
    await h.settleThroughRelists();
    expect(h.writer.patches.length).toBe(writes);
  });

  it('adopts running containers after a restart instead of duplicating them', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const before = (await runtimeContainers()).map((c) => c.id);
    // The old kubelet is gone (its loops stop); a new one starts on the same runtime and state.
    await h.kubelet.stop();
    const next = await h.restart();
    next.addPod(pod);
    await next.settle();
    expect((await runtimeContainers()).map((c) => c.id)).toEqual(before);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(1);
    expect(next.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
  });

  it('backs a crashing container off (at once, 10 s, 20 s): its exit is the state, waiting CrashLoopBackOff only in a later sync and just before the restart', async () => {
    // Each exit reaches the kubelet as it happens (a container event), so the syncs run in the
    // order this test walks through; the periodic relist alone batches them differently.
    const removeLogs = await restartWithContainerEvents();
    const { pod, uid, crash, touch } = crashingPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    // Upstream v1.36: the sync that meets the back-off reports the exit as the current state.
    let status = crash();
    expect(status.restartCount).toBe(1);
    expect(status.state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(status.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(status.state.terminated?.containerID).not.toBe(status.lastState.terminated?.containerID);
    // Only a later sync, finding the back-off recorded, reports waiting CrashLoopBackOff.
    h.clock.advance(5_000);
    touch();
    await h.settleThroughRelists();
    status = crash();
    expect(status.restartCount).toBe(1);
    expect(status.state.waiting).toMatchObject({ reason: 'CrashLoopBackOff' });
    expect(status.state.waiting?.message).toContain('back-off 10s restarting failed container=crash');
    expect(status.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });

    // Past the 10 s (the fake runtime stamps finishedAt with real time, a little after the fake
    // clock's start on a busy machine: leave room) the worker's own retry restarts it, no update needed.
    h.clock.advance(9_000);
    await h.settleThroughRelists();
    status = crash();
    expect(status.restartCount).toBe(2);
    expect(status.state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });

    // Left alone through the 20 s, the status keeps that exit. What the API sees around the
    // restart: the restart sync's status before acting (waiting, the back-off it waited out), then
    // the restarted container's exit.
    const writesBefore = h.writer.patches.length;
    h.clock.advance(21_000);
    await h.settleThroughRelists();
    const seen = h.writer.patches
      .slice(writesBefore)
      .filter((p) => p.uid === uid)
      .map((p) => p.status.containerStatuses![0]!)
      .map((c) => [c.restartCount, Object.keys(c.state)[0], c.state.waiting?.message?.slice(0, 12)]);
    expect(seen).toEqual([
      [2, 'waiting', 'back-off 20s'],
      [3, 'terminated', undefined],
    ]);
    touch();
    await h.settleThroughRelists();
    expect(crash().state.waiting?.message).toContain('back-off 40s');
    // Container GC keeps only the newest dead instance (upstream MaxPerPodContainer = 1).
    const left = await runtimeContainers();
    expect(left).toHaveLength(1);
    expect(left[0]!.annotations['io.kubernetes.container.restartCount']).toBe('3');
    await removeLogs();
  });

  it('caps the back-off at crashLoopBackOff.maxContainerRestartPeriod', async () => {
    const removeLogs = await restartWithContainerEvents({
      crashLoopBackOff: { maxContainerRestartPeriod: '15s' },
    });
    const { pod, crash, touch } = crashingPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(crash().restartCount).toBe(1);
    h.clock.advance(1_000);
    touch();
    await h.settleThroughRelists();
    expect(crash().state.waiting?.message).toContain('back-off 10s restarting failed container=crash');
    // Past the 10 s (with room for the fake runtime's real-time finishedAt) it restarts, and the
    // next delay is the 15 s cap instead of 20 s.
    h.clock.advance(11_000);
    await h.settleThroughRelists();
    expect(crash().restartCount).toBe(2);
    touch();
    await h.settleThroughRelists();
    expect(crash().state.waiting?.message).toContain('back-off 15s restarting failed container=crash');
    await removeLogs();
  });

  it('runs init containers in order, then sidecars, then main containers', async () => {
    const pod = testPod({
      initContainers: [
        { name: 'setup', image: busybox, command: ['sh', '-c', 'echo ready'] },
        { name: 'proxy', image: busybox, command: ['sh', '-c', 'sleep 3600'], restartPolicy: 'Always' },
      ],
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status.phase).toBe('Running');
    expect(status.initContainerStatuses!.map((s) => [s.name, Object.keys(s.state)[0]])).toEqual([
      ['setup', 'terminated'],
      ['proxy', 'running'],
    ]);
    expect(status.conditions!.find((c) => c.type === 'Initialized')?.status).toBe('True');
    const order = (await runtimeContainers())
      .sort((a, b) => Number(a.createdAt - b.createdAt))
      .map((c) => c.metadata?.name);
    expect(order).toEqual(['setup', 'proxy', 'app']);
  });

  it('deletes gracefully: preStop hook, stop with the grace period, cleanup, API delete', async () => {
    const execs: string[][] = [];
    h.fake.onExecSync((_id, cmd) => {
      execs.push(cmd);
      return { stdout: 'bye\n', stderr: '', exitCode: 0, blocks: false };
    });
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } },
        },
      ],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    h.fake.calls.length = 0;
    h.kubelet.updatePod(deleting(pod, 7));
    await h.settleThroughRelists();
    expect(execs).toEqual([['sh', '-c', 'echo bye']]);
    const stopIndex = h.fake.calls.indexOf('StopContainer');
    expect(stopIndex).toBeGreaterThan(h.fake.calls.indexOf('ExecSync'));
    expect(h.fake.calls.indexOf('StopPodSandbox')).toBeGreaterThan(stopIndex);
    expect(await runtimeContainers()).toHaveLength(0);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    const final = h.writer.last(pod.metadata.uid!)!;
    expect(final.containerStatuses![0]!.state.terminated?.exitCode).toBe(143);
    expect(final.phase).toBe('Failed');
  });

  it("ignores the source's removal of a pod whose cleanup is done (the API's delete event after the kubelet's own delete): no runtime call, no status write", async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    await h.kubelet.cleanups();
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    expect(h.kubelet.getPod(pod.metadata.uid!)).toBeUndefined();
    const calls = h.fake.calls.length;
    const patches = h.writer.patches.length;
    h.kubelet.removePod(deleting(pod));
    await h.kubelet.settle();
    await h.kubelet.cleanups();
    expect(h.fake.calls.slice(calls)).toEqual([]);
    expect(h.writer.patches.length).toBe(patches);
    expect(h.kubelet.getPod(pod.metadata.uid!)).toBeUndefined();
  });

  it('reports an invalid pod as Failed with a reason and never touches the runtime', async () => {
    const pod = testPod({
      containers: [
        { name: 'app', image: '' },
        { name: 'app', image: busybox, volumeMounts: [{ name: 'missing', mountPath: '/m' }] },
      ],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('InvalidPodSpec');
    expect(status.message).toContain('spec.containers[0].image');
    expect(status.message).toContain('duplicate container name');
    expect(status.message).toContain('spec.containers[1].volumeMounts[0].name');
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
  });

  it('waits with CreateContainerConfigError for a missing configMap, then starts once it exists', async () => {
    const pod = testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } }],
        },
      ],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const waiting = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(waiting.phase).toBe('Pending');
    expect(waiting.containerStatuses![0]!.state.waiting).toMatchObject({
      reason: 'CreateContainerConfigError',
    });
    expect(waiting.containerStatuses![0]!.state.waiting?.message).toContain('configmap "settings" not found');
    h.configMaps.set('default/settings', { metadata: { name: 'settings' }, data: { mode: 'fast' } });
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)!.phase).toBe('Running');
  });

  it('finishes a restartPolicy Never pod as Succeeded and stops its sandbox', async () => {
    const pod = testPod({
      restartPolicy: 'Never',
      containers: [{ name: 'job', image: busybox, command: ['sh', '-c', 'echo done'] }],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status.phase).toBe('Succeeded');
    expect(status.containerStatuses![0]!.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    const { items } = await h.client.listPodSandbox({});
    expect(items.map((s) => s.state)).toEqual([1]);
    // A later resync changes nothing: no new containers for a finished pod.
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    expect(await runtimeContainers()).toHaveLength(1);
  });

  it('re-creates a sandbox that died, with the next attempt', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const [first] = (await h.client.listPodSandbox({})).items;
    await h.client.stopPodSandbox({ podSandboxId: first!.id });
    // The relist notices the dead sandbox; the sync it triggers re-creates it.
    await h.kubelet.pleg.relist();
    await h.settleThroughRelists();
    const sandboxes = (await h.client.listPodSandbox({})).items.sort((a, b) =>
      Number(b.createdAt - a.createdAt),
    );
    expect(sandboxes).toHaveLength(2);
    expect(sandboxes[0]!.metadata?.attempt).toBe(1);
    expect(sandboxes[0]!.state).toBe(0);
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
  });

  it('reports PLEG health from the relist time', async () => {
    expect(h.kubelet.healthz()).toEqual({ ok: true });
    h.clock.advance(3 * 60_000 + 1000);
    const health = h.kubelet.healthz();
    expect(health.ok).toBe(false);
    expect(!health.ok && health.message).toBe(
      'PLEG is not healthy: pleg was last seen active 3m1s ago; threshold is 3m0s',
    );
    await h.kubelet.pleg.relist();
    expect(h.kubelet.healthz()).toEqual({ ok: true });
  });

  it('pulls with the pod pull secret, and backs off failed pulls (ErrImagePull → ImagePullBackOff)', async () => {
    h.fake.addRegistryImage({
      ref: 'registry.example.com/team/app:1',
      auth: { username: 'robot', password: 'hunter2' },
    });
    h.secrets.set('default/regcred', {
      metadata: { name: 'regcred' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': Buffer.from(
          JSON.stringify({ auths: { 'registry.example.com': { username: 'robot', password: 'hunter2' } } }),
        ).toString('base64'),
      },
    });
    const pulled = testPod({
      imagePullSecrets: [{ name: 'regcred' }],
      containers: [
        { name: 'app', image: 'registry.example.com/team/app:1', command: ['sh', '-c', 'sleep 3600'] },
      ],
    });
    h.kubelet.addPod(pulled);
    await h.settleThroughRelists();
    expect(h.kubelet.getPodStatus(pulled.metadata.uid!)?.phase).toBe('Running');

    const missing = testPod({ containers: [{ name: 'app', image: 'registry.example.com/team/nope:1' }] });
    const pulls = () => h.fake.calls.filter((call) => call === 'PullImage').length;
    h.kubelet.addPod(missing);
    await h.settleThroughRelists();
    // The relist notices the new sandbox; the sync it triggers finds the pull backing off.
    await h.kubelet.pleg.relist();
    await h.settleThroughRelists();
    // One failed pull, then the follow-up sync (sandbox events) waits: ImagePullBackOff.
    const afterFirst = pulls();
    expect(h.kubelet.getPodStatus(missing.metadata.uid!)!.containerStatuses![0]!.state.waiting).toEqual({
      reason: 'ImagePullBackOff',
      // Upstream v1.36 adds the last pull's error to the back-off message.
      message:
        'Back-off pulling image "registry.example.com/team/nope:1": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/team/nope:1": failed to resolve reference "registry.example.com/team/nope:1": not found',
    });
    h.kubelet.resyncPods([missing]);
    await h.settleThroughRelists();
    expect(pulls()).toBe(afterFirst);
    // After 10 s one more attempt fails with ErrImagePull; the next wait is 20 s.
    h.clock.advance(11_000);
    h.kubelet.resyncPods([missing]);
    await h.settleThroughRelists();
    expect(pulls()).toBe(afterFirst + 1);
    h.clock.advance(11_000);
    h.kubelet.resyncPods([missing]);
    await h.settleThroughRelists();
    expect(pulls()).toBe(afterFirst + 1);
    expect(h.kubelet.getPodStatus(missing.metadata.uid!)!.containerStatuses![0]!.state.waiting?.reason).toBe(
      'ImagePullBackOff',
    );
  });

  it('does not read CRI container events by default (EventedPLEG is off in v1.36, as upstream)', async () => {
    h.kubelet.addPod(testPod());
    await h.settleThroughRelists();
    expect(h.fake.calls).not.toContain('GetContainerEvents');
    expect(h.kubelet.containerEventsActive).toBe(false);
  });
});

describe('Kubelet on the fake CRI runtime with the EventedPLEG gate', () => {
  it('reacts to CRI container events without waiting for a periodic relist', async () => {
    const removeLogs = await restartWithContainerEvents();
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const [container] = await runtimeContainers();
    // The periodic relist is an hour away in this harness: only the event can notice the exit.
    h.fake.exitContainer(container!.id, 1);
    const deadline = Date.now() + 5000;
    while ((h.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.restartCount ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('no restart after the container event');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(h.kubelet.containerEventsActive).toBe(true);
    await h.settleThroughRelists();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.state.running).toBeDefined();
    await removeLogs();
  });
});
