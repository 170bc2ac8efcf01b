import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VolumeSetupError } from '../src/errors';
import { failedMountMessage } from '../src/sync/pod-syncer';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

type Recorded = { pod: string; type: string; reason: string; message: string; fieldPath?: string };

describe('pod events on the fake runtime (upstream v1.36 reasons, messages, fieldPath)', () => {
  let h: EngineHarness;
  let events: Recorded[];
  beforeEach(async () => {
    events = [];
    h = await startEngine(
      {
        recordEvent: (pod, type, reason, message, fieldPath) =>
          events.push({ pod: pod.metadata.name ?? '', type, reason, message, fieldPath }),
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
    await h.kubelet.settle();
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
});

describe('failedMountMessage', () => {
  it('keeps errors that are not a volume setup failure as they are', () => {
    expect(failedMountMessage(new Error('disk full'))).toBe('disk full');
    const other = new VolumeSetupError('spec.volumes', 'x', 'something else');
    expect(failedMountMessage(other)).toBe(other.message);
  });
});
