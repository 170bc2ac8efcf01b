import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { ImageGCManager } from '../src/images/image-gc-manager';
import { criImageService } from '../src/images/image-service';
import type { Summary } from '../src/stats/summary-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const time = '2025-01-01T00:00:00Z';

/** A stats summary the test controls: node memory available and per-pod working sets. */
class FakeStats {
  memoryAvailable = 4 * Gi;
  usage = new Map<string, number>();
  /** Per-pod ephemeral storage use (writable layers, logs, local volumes), for pods in `usage`. */
  storage = new Map<string, number>();
  async summary(): Promise<Summary> {
    return {
      node: {
        nodeName: 'node-a',
        startTime: time,
        memory: {
          time,
          availableBytes: this.memoryAvailable,
          workingSetBytes: 4 * Gi - this.memoryAvailable,
        },
        fs: { time, availableBytes: 50 * Gi, capacityBytes: 100 * Gi, inodesFree: 9e5, inodes: 1e6 },
        runtime: { imageFs: { time, availableBytes: 50 * Gi, capacityBytes: 100 * Gi } },
      },
      pods: [...this.usage].map(([uid, bytes]) => ({
        podRef: { name: uid, namespace: 'default', uid },
        startTime: time,
        containers: [{ name: 'app', startTime: time, memory: { time, workingSetBytes: bytes } }],
        ...(this.storage.has(uid) ? { 'ephemeral-storage': { time, usedBytes: this.storage.get(uid) } } : {}),
      })),
    };
  }
}

function appContainer(memoryRequest: string) {
  return {
    name: 'app',
    image: busybox,
    command: ['sh', '-c', 'sleep 3600'],
    resources: { requests: { memory: memoryRequest } },
  };
}

let h: EngineHarness;
let stats: FakeStats;
const logs = join(tmpdir(), `na-kubelet-eviction-${process.pid}`);

beforeEach(async () => {
  stats = new FakeStats();
  h = await startEngine({
    config: parseKubeletConfiguration({ podLogsDir: logs }).config,
    stats,
    pacing: {
      // The test runs each eviction pass itself.
      evictionMonitoringPeriodMs: 3_600_000,
    },
  });
});
afterEach(async () => {
  await h.close();
  await rm(logs, { recursive: true, force: true });
});

describe('kubelet eviction', () => {
  it('evicts the pod over its request under memory pressure: Failed, Evicted, upstream message', {
    timeout: 30_000,
  }, async () => {
    const hog = testPod({
      containers: [appContainer('10Mi')],
    });
    const calm = testPod({
      containers: [appContainer('1Gi')],
    });
    h.kubelet.addPod(hog);
    h.kubelet.addPod(calm);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(hog.metadata.uid!)?.phase).toBe('Running');

    stats.memoryAvailable = 60 * Mi;
    stats.usage.set(hog.metadata.uid!, 300 * Mi);
    stats.usage.set(calm.metadata.uid!, 200 * Mi);
    const evicted = await h.kubelet.housekeeping.evictionManager!.synchronize();
    expect(evicted?.metadata.uid).toBe(hog.metadata.uid);
    await h.kubelet.settle();
    const status = h.kubelet.getPodStatus(hog.metadata.uid!)!;
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('Evicted');
    expect(status.message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 60Mi. ' +
        'Container app was using 300Mi, request is 10Mi, has larger consumption of memory. ',
    );
    expect(status.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason).toBe(
      'TerminationByKubelet',
    );
    expect(h.writer.last(hog.metadata.uid!)?.reason).toBe('Evicted');
    // Its containers are stopped, the other pod keeps running.
    const containers = (await h.client.listContainers({})).containers;
    const running = containers.filter((c) => c.state === 1).map((c) => c.labels['io.kubernetes.pod.uid']);
    expect(running).toEqual([calm.metadata.uid]);
    expect(h.kubelet.housekeeping.pressure().memoryPressure).toBe(true);
    expect(await h.kubelet.metrics.registry.getSingleMetricAsString('kubelet_evictions')).toContain(
      'kubelet_evictions{eviction_signal="memory.available"} 1',
    );
  });

  it('rejects a new best-effort pod under memory pressure but admits a burstable one', {
    timeout: 30_000,
  }, async () => {
    stats.memoryAvailable = 50 * Mi;
    await h.kubelet.housekeeping.evictionManager!.synchronize();
    const besteffort = testPod();
    const burstable = testPod({
      containers: [appContainer('10Mi')],
    });
    h.kubelet.addPod(besteffort);
    h.kubelet.addPod(burstable);
    await h.kubelet.settle();
    const rejected = h.kubelet.getPodStatus(besteffort.metadata.uid!)!;
    expect(rejected).toMatchObject({
      phase: 'Failed',
      reason: 'Evicted',
      message: 'Pod was rejected: The node had condition: [MemoryPressure]. ',
    });
    expect(h.kubelet.getPodStatus(burstable.metadata.uid!)?.phase).toBe('Running');
    expect((await h.client.listPodSandbox({})).items).toHaveLength(1);
  });
});

describe('kubelet eviction for local storage limits (localStorageCapacityIsolation)', () => {
  const storageHog = () =>
    testPod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources: { limits: { 'ephemeral-storage': '1Gi' } },
        },
      ],
    });

  it('evicts a pod over its ephemeral-storage limit: Failed, Evicted, no DisruptionTarget condition', {
    timeout: 30_000,
  }, async () => {
    const pod = storageHog();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');

    stats.usage.set(pod.metadata.uid!, 10 * Mi);
    stats.storage.set(pod.metadata.uid!, 2 * Gi);
    const evicted = await h.kubelet.housekeeping.evictionManager!.synchronize();
    expect(evicted?.metadata.uid).toBe(pod.metadata.uid);
    await h.kubelet.settle();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status).toMatchObject({
      phase: 'Failed',
      reason: 'Evicted',
      message: 'Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ',
    });
    expect(status.conditions?.some((c) => c.type === 'DisruptionTarget')).toBe(false);
    expect(await h.kubelet.metrics.registry.getSingleMetricAsString('kubelet_evictions')).toContain(
      'kubelet_evictions{eviction_signal="ephemeralpodfs.limit"} 1',
    );
  });

  it('leaves the pod running with localStorageCapacityIsolation false', { timeout: 30_000 }, async () => {
    const off = await startEngine({
      config: parseKubeletConfiguration({ podLogsDir: logs, localStorageCapacityIsolation: false }).config,
      stats,
      pacing: { evictionMonitoringPeriodMs: 3_600_000 },
    });
    try {
      const pod = storageHog();
      off.kubelet.addPod(pod);
      await off.kubelet.settle();
      stats.usage.set(pod.metadata.uid!, 10 * Mi);
      stats.storage.set(pod.metadata.uid!, 2 * Gi);
      expect(await off.kubelet.housekeeping.evictionManager!.synchronize()).toBeUndefined();
      await off.kubelet.settle();
      expect(off.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
    } finally {
      await off.close();
    }
  });
});

describe('image GC on the CRI image service', () => {
  it('removes unused images above the high threshold, never the one a container uses', async () => {
    const images = criImageService(h.client);
    expect((await images.listImages()).length).toBeGreaterThanOrEqual(2);
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const used = new Set((await h.client.listContainers({})).containers.map((c) => c.imageRef));
    expect(used.size).toBe(1);
    let usedPercent = 50;
    const manager = new ImageGCManager({
      images,
      imagesInUse: async () => used,
      imageFs: async () => ({ time, capacityBytes: 100, availableBytes: 100 - usedPercent }),
      policy: { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0, maxAgeMs: 0 },
    });
    expect((await manager.garbageCollect()).removed).toEqual([]);
    usedPercent = 99;
    const before = (await images.listImages()).map((image) => image.id);
    const result = await manager.garbageCollect();
    expect(result.removed.sort()).toEqual(before.filter((id) => !used.has(id)).sort());
    expect((await images.listImages()).map((image) => image.id)).toEqual([...used]);
  });
});
