import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../src/cri/pod-runtime';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { Kubelet } from '../src/kubelet';
import { GenericPLEG, type PodLifecycleEvent } from '../src/pleg/generic-pleg';
import { PodCache } from '../src/pleg/pod-cache';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox, RecordingWriter, testPod } from './helpers/engine';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

describe('pod start without waiting for a relist', () => {
  // Like containerd 1.6: no CRI container events, so only relists could notice a start.
  let fake: FakeRuntime;
  let client: CriClient;
  let dir: string;
  let kubelet: Kubelet;
  let writer: RecordingWriter;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-kubelet-pod-start-${process.pid}-`));
    fake = await FakeRuntime.start({ images: [{ ref: busybox }], containerEvents: false });
    client = await createCriClient({ endpoint: fake.endpoint });
    writer = new RecordingWriter();
    kubelet = new Kubelet({
      node: {
        name: 'node-a',
        rootDir: join(dir, 'root'),
        hostIPs: ['192.168.50.2'],
        memoryCapacity: 4 * 1024 ** 3,
      },
      runtime: criPodRuntime(client),
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs'),
        volumePluginDir: join(dir, 'volume-plugins'),
      }).config,
      api: {
        statusWriter: writer,
      },
      pacing: {
        clock: new FakeClock(Date.now()),
        // The periodic relist is an hour away: nothing but the syncs themselves reads the runtime.
        relistPeriodMs: 3_600_000,
        retryMs: 3_600_000,
        sleep: async () => {},
        maxParallelPodStarts: 1,
      },
      mounter: new RecordingMounter(),
    });
    await kubelet.start();
  });
  afterEach(async () => {
    await kubelet.stop();
    client.close();
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("patches a pod's Running status right after its containers start, with no relist in between", async () => {
    const relist = vi.spyOn(kubelet.pleg, 'relist');
    const pods = [testPod(), testPod(), testPod()];
    for (const pod of pods) kubelet.addPod(pod);
    await kubelet.settle();
    expect(relist).not.toHaveBeenCalled();
    for (const pod of pods) {
      const patches = writer.patches.filter((p) => p.uid === pod.metadata.uid);
      // As upstream, the first sync writes Pending/ContainerCreating before it creates the
      // sandbox; the same sync reported the started containers right after.
      expect(patches.map((p) => p.status.phase)).toEqual(['Pending', 'Running']);
      expect(patches[0]!.status.containerStatuses![0]!.state.waiting?.reason).toBe('ContainerCreating');
      expect(patches[1]!.status.containerStatuses![0]!.state.running).toBeDefined();
      expect(kubelet.runtimeStatus(pod.metadata.uid!)?.containers[0]?.state).toBe('running');
    }
  });

  it('reads one pod from the runtime per sync instead of listing every pod', async () => {
    const first = testPod();
    kubelet.addPod(first);
    await kubelet.settle();
    fake.calls.length = 0;
    const second = testPod();
    kubelet.addPod(second);
    await kubelet.settle();
    expect(writer.last(second.metadata.uid!)?.phase).toBe('Running');
    // A pod the relist never saw has nothing in the runtime: it is read once, after acting
    // (one filtered ListPodSandbox), and ContainerStatus is asked only for the new container —
    // never for the first pod's.
    expect(fake.calls.filter((c) => c === 'ListPodSandbox')).toHaveLength(1);
    expect(fake.calls.filter((c) => c === 'ContainerStatus')).toHaveLength(1);
  });

  it('raises the PLEG events for what the sync did at once (on-demand relist), and the follow-up sync writes nothing new', async () => {
    const updates: string[] = [];
    const original = kubelet.workers.updatePod.bind(kubelet.workers);
    vi.spyOn(kubelet.workers, 'updatePod').mockImplementation((update) => {
      updates.push(update.updateType);
      original(update);
    });
    const pod = testPod();
    kubelet.addPod(pod);
    await kubelet.settle();
    // No relist ran (it is an hour away): the sync's own relist of the pod raised the events,
    // whose syncs then found nothing to do and wrote nothing.
    expect(updates.filter((type) => type === 'sync').length).toBeGreaterThan(0);
    expect(writer.patches.map((p) => p.status.phase)).toEqual(['Pending', 'Running']);
    // The PLEG's baseline moved with that relist: the periodic relist has nothing to raise.
    updates.length = 0;
    await kubelet.pleg.relist();
    await kubelet.settle();
    expect(updates).toEqual([]);
  });

  it('does not fetch ContainerStatus again for containers whose state did not change', async () => {
    const pod = testPod();
    kubelet.addPod(pod);
    await kubelet.settle();
    // The first relist raises the start events; the syncs they trigger change nothing.
    await kubelet.pleg.relist();
    await kubelet.settle();
    fake.calls.length = 0;
    await kubelet.pleg.relist();
    await kubelet.pleg.relist();
    expect(fake.calls.filter((c) => c === 'ContainerStatus')).toEqual([]);
    expect(fake.calls.filter((c) => c === 'ListContainers')).toHaveLength(2);
  });
});

describe('criPodRuntime image checks', () => {
  it('shares one ImageStatus call among concurrent checks of the same image, and asks again after', async () => {
    const fake = await FakeRuntime.start({ images: [{ ref: busybox }] });
    const client = await createCriClient({ endpoint: fake.endpoint });
    try {
      const runtime = criPodRuntime(client);
      const refs = await Promise.all(Array.from({ length: 5 }, () => runtime.imageRef(busybox)));
      expect(new Set(refs).size).toBe(1);
      expect(refs[0]).toMatch(/^sha256:/);
      expect(fake.calls.filter((c) => c === 'ImageStatus')).toHaveLength(1);
      expect(await runtime.imageRef('localhost/nodeagent/missing:1')).toBeUndefined();
      await runtime.imageRef(busybox);
      expect(fake.calls.filter((c) => c === 'ImageStatus')).toHaveLength(3);
    } finally {
      client.close();
      await fake.stop();
    }
  });
});

describe('PLEG cache ordering', () => {
  it('keeps a single-pod refresh when an older relist finishes after it', async () => {
    const pod = makePod();
    const before = runtimeStatus(pod, [readySandbox()]);
    const after = runtimeStatus(pod, [readySandbox()], [runtimeContainer(pod.spec.containers[0]!)]);
    let finishList!: (pods: PodRuntimeStatus[]) => void;
    const runtime = {
      listPods: () =>
        new Promise<PodRuntimeStatus[]>((resolve) => {
          finishList = resolve;
        }),
      podStatus: async () => after,
    } as unknown as PodRuntime;
    const cache = new PodCache();
    const events: PodLifecycleEvent[] = [];
    const pleg = new GenericPLEG({ runtime, cache, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    const relist = pleg.relist();
    await pleg.refreshPod('uid-1', 'web', 'default');
    // The relist listed before the container was started, and finishes last.
    finishList([before]);
    await relist;
    expect(cache.get('uid-1')?.status.containers).toHaveLength(1);
    // Events still describe what that relist saw against the previous relist.
    expect(events.map((e) => e.type)).toEqual(['ContainerStarted']);
  });

  it('drops pods that left the runtime unless a newer refresh found them', async () => {
    const cache = new PodCache();
    const pod = makePod();
    expect(cache.set('uid-1', runtimeStatus(pod, [readySandbox()]), 0, 5)).toBe(true);
    expect(cache.set('uid-1', runtimeStatus(pod, []), 0, 4)).toBe(false);
    cache.delete('uid-1', 3);
    expect(cache.get('uid-1')?.status.sandboxes).toHaveLength(1);
    cache.delete('uid-1', 6);
    expect(cache.get('uid-1')).toBeUndefined();
  });
});
