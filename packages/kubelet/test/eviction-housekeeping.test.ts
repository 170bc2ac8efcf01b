import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it, vi } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import type { PodRuntime } from '../src/cri/pod-runtime';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { KubeletHousekeeping } from '../src/eviction/kubelet-housekeeping';
import type { ImageService, RuntimeImage } from '../src/images/image-service';
import type { Summary } from '../src/stats/summary-types';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';

const Gi = 1024 ** 3;
const time = '2025-01-01T00:00:00Z';
const silent = { info() {}, warn() {} };

function diskSummary(availableGi: number): Summary {
  return {
    node: {
      nodeName: 'node-a',
      startTime: time,
      memory: { time, availableBytes: 8 * Gi, workingSetBytes: Gi },
      fs: { time, availableBytes: availableGi * Gi, capacityBytes: 100 * Gi, inodesFree: 9e5, inodes: 1e6 },
      runtime: { imageFs: { time, availableBytes: availableGi * Gi, capacityBytes: 100 * Gi } },
    },
    pods: [],
  };
}

/** A runtime holding one pod with two dead instances and one running instance of its container. */
function fakeRuntime(pod: Pod) {
  const container = pod.spec.containers[0]!;
  const status: PodRuntimeStatus = runtimeStatus(
    pod,
    [readySandbox()],
    [
      runtimeContainer(container, { id: 'dead-1', state: 'exited', createdAt: 1, imageRef: 'sha256:app' }),
      runtimeContainer(container, { id: 'dead-2', state: 'exited', createdAt: 2, imageRef: 'sha256:app' }),
      runtimeContainer(container, { id: 'live', state: 'running', createdAt: 3, imageRef: 'sha256:app' }),
    ],
  );
  const removed: string[] = [];
  const runtime = {
    async listPods() {
      return [{ ...status, containers: status.containers.filter((c) => !removed.includes(c.id)) }];
    },
    async removeContainer(id: string) {
      removed.push(id);
    },
    async stopPodSandbox() {},
    async removePodSandbox() {},
  } as unknown as PodRuntime;
  return { runtime, removed };
}

describe('KubeletHousekeeping', () => {
  it('on disk pressure removes every dead container and unused image first, and evicts nobody when that frees enough', async () => {
    const pod = makePod({}, { uid: 'running-pod' });
    const { runtime, removed } = fakeRuntime(pod);
    let available = 5; // below nodefs.available<10%
    const images: RuntimeImage[] = [
      { id: 'sha256:app', repoTags: ['app'], sizeBytes: Gi, pinned: false },
      { id: 'sha256:old', repoTags: ['old'], sizeBytes: 20 * Gi, pinned: false },
    ];
    const imageService: ImageService = {
      listImages: async () => images,
      removeImage: async (id) => {
        images.splice(
          images.findIndex((image) => image.id === id),
          1,
        );
        if (id === 'sha256:old') available = 25;
      },
    };
    const evicted: Pod[] = [];
    const clock = new FakeClock();
    const housekeeping = new KubeletHousekeeping({
      // A zero minimum age as given: decoding a file would default 0s to 2m, as upstream.
      config: parseKubeletConfiguration({ imageMinimumGCAge: '0s' }, { zeroValueDefaults: false }).config,
      runtime,
      clock,
      logger: silent,
      stats: { summary: async () => diskSummary(available) },
      images: imageService,
      imageFs: async () => ({ time, capacityBytes: 100 * Gi, availableBytes: available * Gi }),
      activePods: () => [pod],
      knownPodUids: () => [pod.metadata.uid!],
      evictPod: (p) => {
        evicted.push(p);
        return true;
      },
    });
    expect(await housekeeping.evictionManager!.synchronize()).toBeUndefined();
    // The running pod keeps its newest dead instance (lastState), the older one goes.
    expect(removed).toEqual(['dead-1']);
    expect(images.map((image) => image.id)).toEqual(['sha256:app']);
    expect(evicted).toEqual([]);
    // The condition was on for this pass and stays for the transition period.
    expect(housekeeping.pressure()).toEqual({
      memoryPressure: false,
      diskPressure: true,
      pidPressure: false,
    });
    expect(housekeeping.admit(makePod({}, { uid: 'new' }))).toMatchObject({
      admit: false,
      reason: 'Evicted',
    });
  });

  it('disk reclaim removes every dead instance of pods that are no longer active', async () => {
    const pod = makePod({}, { uid: 'finished-pod' });
    const { runtime, removed } = fakeRuntime(pod);
    const housekeeping = new KubeletHousekeeping({
      config: parseKubeletConfiguration({}).config,
      runtime,
      clock: new FakeClock(),
      logger: silent,
      stats: { summary: async () => diskSummary(5) },
      activePods: () => [],
      knownPodUids: () => [pod.metadata.uid!],
      evictPod: () => true,
    });
    await housekeeping.evictionManager!.synchronize();
    expect(removed.sort()).toEqual(['dead-1', 'dead-2']);
  });

  it('runs image GC at start as upstream: InvalidDiskCapacity first, ImageGCFailed only for a repeated failure', async () => {
    const clock = new FakeClock();
    const events: string[][] = [];
    const warnings: string[] = [];
    const imageService: ImageService = { listImages: async () => [], removeImage: async () => {} };
    let capacityBytes: number | undefined;
    let passes = 0;
    const make = (config: Parameters<typeof parseKubeletConfiguration>[0]) =>
      new KubeletHousekeeping({
        config: parseKubeletConfiguration(config).config,
        runtime: fakeRuntime(makePod()).runtime,
        clock,
        logger: { info() {}, warn: (_fields: unknown, message: string) => warnings.push(message) },
        images: imageService,
        imageFs: async () => {
          passes += 1;
          return { time, capacityBytes, availableBytes: capacityBytes };
        },
        activePods: () => [],
        knownPodUids: () => [],
        evictPod: () => true,
        recordNodeEvent: (type, reason, message) => events.push([type, reason, message]),
      });
    const housekeeping = make({});
    await housekeeping.start();
    // The first pass runs at start, not a period later (upstream's wait.Until).
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toEqual(['Warning', 'InvalidDiskCapacity', 'invalid capacity 0 on image filesystem']);
    expect(warnings).toEqual([
      'Image garbage collection failed once. Stats initialization may not have completed yet',
    ]);
    clock.advance(5 * 60_000);
    await vi.waitFor(() => expect(events).toHaveLength(3));
    expect(events.slice(1)).toEqual([
      ['Warning', 'InvalidDiskCapacity', 'invalid capacity 0 on image filesystem'],
      ['Warning', 'ImageGCFailed', 'invalid capacity 0 on image filesystem'],
    ]);
    // Measured: the pass succeeds, and the next failure is a first one again (no ImageGCFailed).
    capacityBytes = 100 * Gi;
    clock.advance(5 * 60_000);
    await vi.waitFor(() => expect(passes).toBe(3));
    capacityBytes = undefined;
    clock.advance(5 * 60_000);
    await vi.waitFor(() => expect(events).toHaveLength(4));
    await housekeeping.stop();
    expect(events[3]).toEqual(['Warning', 'InvalidDiskCapacity', 'invalid capacity 0 on image filesystem']);
    expect(warnings.slice(2)).toEqual([
      'Image garbage collection failed once. Stats initialization may not have completed yet',
    ]);

    // imageGCHighThresholdPercent 100 without imageMaximumGCAge: no periodic image GC at all.
    capacityBytes = undefined;
    const off = make({ imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 80 });
    await off.start();
    clock.advance(10 * 60_000);
    await off.stop();
    expect(passes).toBe(4);
    expect(events).toHaveLength(4);
  });

  it('without inputs has no managers, admits everything and reports no pressure', async () => {
    const housekeeping = new KubeletHousekeeping({
      config: parseKubeletConfiguration({}).config,
      runtime: fakeRuntime(makePod()).runtime,
      clock: new FakeClock(),
      logger: silent,
      activePods: () => [],
      knownPodUids: () => [],
      evictPod: () => true,
    });
    expect(housekeeping.evictionManager).toBeUndefined();
    expect(housekeeping.imageGC).toBeUndefined();
    await housekeeping.start();
    expect(housekeeping.admit(makePod())).toEqual({ admit: true });
    expect(housekeeping.pressure().memoryPressure).toBe(false);
    await housekeeping.stop();
  });

  it('at start removes pod cgroups of pods neither known nor in the runtime', async () => {
    const root = await mkdtemp(join(tmpdir(), `na-hk-cgroups-${process.pid}-`));
    try {
      for (const controller of ['cpu', 'memory', 'pids']) await mkdir(join(root, controller));
      const cgroups = new PodCgroupManager({
        fs: new CgroupV1Filesystem(root),
        cgroupDriver: 'cgroupfs',
        cgroupRoot: '/',
      });
      const known = makePod({}, { uid: 'known' });
      const inRuntime = makePod({}, { uid: 'uid-1' }); // the fake runtime's pod
      const stale = makePod({}, { uid: 'stale' });
      await cgroups.start();
      for (const p of [known, inRuntime, stale]) await cgroups.ensurePod(p);
      const housekeeping = new KubeletHousekeeping({
        config: parseKubeletConfiguration({}).config,
        runtime: fakeRuntime(inRuntime).runtime,
        clock: new FakeClock(),
        logger: silent,
        cgroups,
        activePods: () => [known],
        knownPodUids: () => ['known'],
        evictPod: () => true,
        evictionMonitoringPeriodMs: 3_600_000,
      });
      await housekeeping.start();
      expect((await cgroups.podUids()).sort()).toEqual(['known', 'uid-1']);
      await housekeeping.podStopped('known');
      expect(await cgroups.podUids()).toEqual(['uid-1']);
      await housekeeping.stop();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
