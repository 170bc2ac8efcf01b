import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VolumeSetupError } from '../src/errors';
import { failedMountMessage } from '../src/sync/pod-syncer';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

type Recorded = { pod: string; type: string; reason: string; message: string; fieldPath?: string };
/** A pod the kubelet told the recorder to forget, in the same list as the events. */
type Forgotten = { forgotten: string };

describe('pod events on the fake runtime (upstream v1.36 reasons, messages, fieldPath)', () => {
  let h: EngineHarness;
  let events: Recorded[];
  let forgotten: Forgotten[];
  beforeEach(async () => {
    events = [];
    forgotten = [];
    h = await startEngine(
      {
        api: {
          recordEvent: (pod, type, reason, message, fieldPath) =>
            events.push({ pod: pod.metadata.name ?? '', type, reason, message, fieldPath }),
          podEventMemory: {
            forgetPod: (uid) => {
              forgotten.push({ forgotten: uid });
              // Nothing about the pod may be recorded after it was forgotten.
              events.push({ pod: `forgotten ${uid}`, type: '', reason: 'forgotten', message: '' });
            },
          },
        },
      },
      { runtimeOnFakeClock: true },
    );
  });
  afterEach(async () => h.close());

  it('a pull (imagePullPolicy Always): Pulling, then Pulled with time and image size', async () => {
    const pod = testPod({
      containers: [
        { name: 'app', image: busybox, imagePullPolicy: 'Always', command: ['sh', '-c', 'sleep 3600'] },
      ],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const ofPod = events.filter((e) => e.pod === pod.metadata.name);
    expect(ofPod.map((e) => e.reason)).toEqual(['Pulling', 'Pulled', 'Created', 'Started']);
    expect(ofPod[0]).toEqual({
      pod: pod.metadata.name,
      type: 'Normal',
      reason: 'Pulling',
      message: `Pulling image "${busybox}"`,
      fieldPath: 'spec.containers{app}',
    });
    // The fake clock stands still: 0s; the size is the runtime's (CRI ImageStatus).
    const size = (await h.client.imageStatus({ image: { image: busybox } })).image?.size;
    expect(ofPod[1]!.message).toBe(
      `Successfully pulled image "${busybox}" in 0s (0s including waiting). Image size: ${size} bytes.`,
    );
  });

  it('deleting a pod records Killing "Stopping container <name>" for each running container', async () => {
    const pod = testPod({
      initContainers: [
        { name: 'proxy', image: busybox, restartPolicy: 'Always', command: ['sh', '-c', 'sleep 3600'] },
      ],
    });
    h.kubelet.addPod(pod);
    // The app container starts in the sync after the sidecar's start, which the relist its CRI
    // event triggers asks for; that relist may land after settle() returns.
    await h.settleThroughRelists();
    expect(events.filter((e) => e.reason === 'Started').map((e) => e.fieldPath)).toEqual([
      'spec.initContainers{proxy}',
      'spec.containers{app}',
    ]);
    h.kubelet.updatePod({
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: new Date(h.clock.now()).toISOString() },
    });
    await h.kubelet.settle();
    expect(events.filter((e) => e.reason === 'Killing')).toEqual([
      {
        pod: pod.metadata.name,
        type: 'Normal',
        reason: 'Killing',
        message: 'Stopping container app',
        fieldPath: 'spec.containers{app}',
      },
      {
        pod: pod.metadata.name,
        type: 'Normal',
        reason: 'Killing',
        message: 'Stopping container proxy',
        fieldPath: 'spec.initContainers{proxy}',
      },
    ]);
    // Once removed, the recorder is told to forget the pod, and it is the last word about it.
    await h.kubelet.settle();
    expect(forgotten).toEqual([{ forgotten: pod.metadata.uid }]);
    expect(events.at(-1)).toMatchObject({ reason: 'forgotten' });
  });

  it('a sandbox that died is announced with SandboxChanged before it is re-created', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const [sandbox] = (await h.client.listPodSandbox({})).items;
    await h.client.stopPodSandbox({ podSandboxId: sandbox!.id });
    // The new sandbox must be newer than the dead one (the runtime runs on the fake clock).
    h.clock.advance(1_000);
    await h.settleThroughRelists();
    expect(events.filter((e) => e.reason === 'SandboxChanged')).toEqual([
      {
        pod: pod.metadata.name,
        type: 'Normal',
        reason: 'SandboxChanged',
        message: 'Pod sandbox changed, it will be killed and re-created.',
        fieldPath: undefined,
      },
    ]);
  });

  it('a pod directory that cannot be made: FailedToMakePodDataDirectories, and no container started', async () => {
    const pod = testPod();
    // A file where the pod's directory goes (Go's MkdirAll: ENOTDIR).
    const podDir = join(h.dir, 'root', 'pods', pod.metadata.uid!);
    mkdirSync(dirname(podDir), { recursive: true });
    writeFileSync(podDir, '');
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(events.filter((e) => e.reason === 'FailedToMakePodDataDirectories')[0]).toEqual({
      pod: pod.metadata.name,
      type: 'Warning',
      reason: 'FailedToMakePodDataDirectories',
      message: `error making pod data directories: mkdir ${podDir}: not a directory`,
      fieldPath: undefined,
    });
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
  });

  it('every pod gets its directory, volumes/ and plugins/, mode 0750, as upstream makePodDataDirs', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const podDir = join(h.dir, 'root', 'pods', pod.metadata.uid!);
    for (const dir of [podDir, join(podDir, 'volumes'), join(podDir, 'plugins')])
      expect(statSync(dir).mode & 0o777).toBe(0o750);
  });

  it('a missing ConfigMap: FailedMount "MountVolume.SetUp failed for volume ..." on the pod', async () => {
    const pod = testPod({ volumes: [{ name: 'cfg', configMap: { name: 'missing' } }] });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(events.filter((e) => e.reason === 'FailedMount')).toEqual([
      {
        pod: pod.metadata.name,
        type: 'Warning',
        reason: 'FailedMount',
        message: 'MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found',
        fieldPath: undefined,
      },
    ]);
  });

  it('a csi volume whose driver never registered: Pending, ContainerCreating, FailedMount on the mount back-off, deleted cleanly', async () => {
    const pod = testPod({
      volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io' } }],
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          volumeMounts: [{ name: 'secrets', mountPath: '/secrets' }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    const failedMounts = () => events.filter((e) => e.reason === 'FailedMount').length;
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(events.filter((e) => e.reason === 'FailedMount')).toEqual([
      {
        pod: pod.metadata.name,
        type: 'Warning',
        reason: 'FailedMount',
        message:
          'MountVolume.SetUp failed for volume "secrets" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers',
        fieldPath: undefined,
      },
    ]);
    // The worker's own retries follow the mount back-off: 0.5 s, 1 s, 2 s, 4 s after each try.
    const counts: number[] = [];
    for (const ms of [499, 1, 1_000, 2_000, 3_999, 1]) {
      h.clock.advance(ms);
      await h.kubelet.settle();
      counts.push(failedMounts());
    }
    expect(counts).toEqual([1, 2, 3, 4, 4, 5]);
    const status = h.kubelet.getPodStatus(uid)!;
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses![0]!.state.waiting).toEqual({ reason: 'ContainerCreating' });
    expect(status.conditions!.find((c) => c.type === 'PodReadyToStartContainers')?.status).toBe('False');
    // Upstream waits for the volume before the sandbox: nothing was created in the runtime.
    expect(h.fake.calls).not.toContain('RunPodSandbox');

    h.kubelet.updatePod(deleting(pod, 0));
    await h.kubelet.settle();
    expect(h.writer.deleted).toEqual([uid]);
    expect((await h.client.listPodSandbox({})).items).toEqual([]);
    const after = failedMounts();
    h.clock.advance(300_000);
    await h.kubelet.settle();
    expect(failedMounts()).toBe(after);
  });
});

describe('failedMountMessage', () => {
  it('keeps errors that are not a volume setup failure as they are', () => {
    expect(failedMountMessage(new Error('disk full'))).toBe('disk full');
    const other = new VolumeSetupError('spec.volumes', 'x', 'something else');
    expect(failedMountMessage(other)).toBe(other.message);
  });
});
