import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../src/cri/pod-runtime';
import type { PodRuntimeStatus, RuntimeContainerStatus } from '../src/cri/runtime-state';
import { Kubelet } from '../src/kubelet';
import { createKubeletMetrics } from '../src/metrics';
import { GenericPLEG, type PodLifecycleEvent } from '../src/pleg/generic-pleg';
import { PodCache } from '../src/pleg/pod-cache';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox, RecordingWriter, testPod } from './helpers/engine';

// Upstream v1.36 PLEGOnDemandRelist (beta, on by default): after a sync whose actions all
// succeeded, Kubelet.SyncPod's postSync asks the PLEG to relist that one pod (pleg/generic.go
// RequestRelist → relistPod), which raises its events and observes
// kubelet_pleg_pod_relist_duration_seconds; with the gate off RequestRelist does nothing.

const sandbox = { id: 'sb', attempt: 0, ready: true, createdAt: 1, ips: ['10.0.0.5'], hostNetwork: false };
const app: RuntimeContainerStatus = {
  id: 'c1',
  name: 'app',
  state: 'running',
  restartCount: 0,
  hash: 'h',
  createdAt: 2,
  image: 'busybox',
  imageRef: 'sha256:x',
};
const pod = (containers: RuntimeContainerStatus[]): PodRuntimeStatus => ({
  uid: 'u1',
  name: 'web',
  namespace: 'default',
  sandboxes: [{ ...sandbox }],
  containers: containers.map((c) => ({ ...c })),
});

/** The value of one sample line of a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A PLEG over a scripted runtime: `listed` for relists, `single` for one pod's read. */
function scriptedPleg() {
  const clock = new FakeClock();
  const state = {
    listed: [] as PodRuntimeStatus[],
    single: undefined as PodRuntimeStatus | undefined,
    readMs: 0,
    reads: 0,
    /** Replaces the relist's listing (a listing held open). */
    listPods: undefined as (() => Promise<PodRuntimeStatus[]>) | undefined,
  };
  const runtime = {
    listPods: async () => (state.listPods ? state.listPods() : state.listed),
    podStatus: async () => {
      state.reads += 1;
      clock.advance(state.readMs);
      if (!state.single) throw new Error('runtime unavailable');
      return state.single;
    },
  } as unknown as PodRuntime;
  const events: PodLifecycleEvent[] = [];
  const errors: unknown[] = [];
  const cache = new PodCache();
  const metrics = createKubeletMetrics(new Registry(), new Registry());
  const pleg = new GenericPLEG({
    runtime,
    cache,
    clock,
    metrics,
    onEvent: (e) => events.push(e),
    onError: (e) => errors.push(e),
  });
  const histogram = async (series: string) =>
    sample(await metrics.registry.metrics(), `kubelet_pleg_pod_relist_duration_seconds${series}`);
  return { pleg, cache, state, events, errors, histogram };
}

describe('GenericPLEG.relistPod', () => {
  it('raises the events for what changed since the PLEG last saw the pod, caches it and moves the baseline', async () => {
    const t = scriptedPleg();
    t.state.listed = [pod([])];
    await t.pleg.relist();
    expect(t.events.map((e) => [e.type, e.containerId])).toEqual([['ContainerStarted', 'sb']]);
    t.state.single = pod([app]);
    t.state.readMs = 30;
    const read = await t.pleg.relistPod('u1', 'web', 'default');
    expect(read?.containers.map((c) => c.id)).toEqual(['c1']);
    expect(t.events.map((e) => [e.type, e.containerId])).toEqual([
      ['ContainerStarted', 'sb'],
      ['ContainerStarted', 'c1'],
    ]);
    expect(t.cache.get('u1')?.status.containers.map((c) => c.state)).toEqual(['running']);
    // The next relist lists the same states: nothing is raised a second time.
    t.state.listed = [pod([app])];
    await t.pleg.relist();
    expect(t.events).toHaveLength(2);
    // One observation of 30 ms (the read took that long on the injected clock), default buckets.
    expect(await t.histogram('_count')).toBe(1);
    expect(await t.histogram('_sum')).toBeCloseTo(0.03);
    expect(await t.histogram('_bucket{le="0.025"}')).toBe(0);
    expect(await t.histogram('_bucket{le="0.05"}')).toBe(1);
  });

  it('waits for a relist in flight, so an older listing cannot undo what it saw', async () => {
    const t = scriptedPleg();
    let finishList!: (pods: PodRuntimeStatus[]) => void;
    t.state.listPods = () =>
      new Promise((resolve) => {
        finishList = resolve;
      });
    t.state.single = pod([app]);
    const relist = t.pleg.relist();
    const relisted = t.pleg.relistPod('u1');
    await Promise.resolve();
    expect(t.state.reads).toBe(0);
    // The relist listed before the container started, and finishes first.
    finishList([pod([])]);
    await relist;
    await relisted;
    expect(t.state.reads).toBe(1);
    expect(t.events.map((e) => [e.type, e.containerId])).toEqual([
      ['ContainerStarted', 'sb'],
      ['ContainerStarted', 'c1'],
    ]);
  });

  it('reports a failed read, still observes it, and leaves the events to the next relist', async () => {
    const t = scriptedPleg();
    t.state.single = undefined;
    expect(await t.pleg.relistPod('u1')).toBeUndefined();
    expect(t.errors).toHaveLength(1);
    expect(t.events).toEqual([]);
    expect(await t.histogram('_count')).toBe(1);
    t.state.listed = [pod([app])];
    await t.pleg.relist();
    expect(t.events.map((e) => e.containerId).sort()).toEqual(['c1', 'sb']);
  });

  it('reports a pod gone from the runtime once and drops it from the cache', async () => {
    const t = scriptedPleg();
    t.state.listed = [pod([app])];
    await t.pleg.relist();
    t.events.length = 0;
    t.state.single = { ...pod([]), sandboxes: [] };
    await t.pleg.relistPod('u1');
    expect(t.events.map((e) => e.type).sort()).toEqual([
      'ContainerDied',
      'ContainerDied',
      'ContainerRemoved',
      'ContainerRemoved',
    ]);
    expect(t.cache.get('u1')).toBeUndefined();
    t.state.listed = [];
    await t.pleg.relist();
    expect(t.events).toHaveLength(4);
  });
});

describe('PLEGOnDemandRelist in the kubelet (fake CRI without container events, relist an hour away)', () => {
  let fake: FakeRuntime | undefined;
  let client: CriClient | undefined;
  let kubelet: Kubelet | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await kubelet?.stop();
    client?.close();
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    kubelet = client = fake = dir = undefined;
  });

  async function start(featureGates: Record<string, boolean> = {}) {
    dir = await mkdtemp(join(tmpdir(), `na-kubelet-on-demand-relist-${process.pid}-`));
    fake = await FakeRuntime.start({ images: [{ ref: busybox }], containerEvents: false });
    client = await createCriClient({ endpoint: fake.endpoint });
    const writer = new RecordingWriter();
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
        featureGates,
      }).config,
      api: { statusWriter: writer },
      pacing: {
        clock: new FakeClock(Date.now()),
        relistPeriodMs: 3_600_000,
        retryMs: 3_600_000,
        sleep: async () => {},
      },
      mounter: new RecordingMounter(),
    });
    await kubelet.start();
    const relist = vi.spyOn(kubelet.pleg, 'relist');
    const metrics = async (series: string) => sample(await kubelet!.metrics.registry.metrics(), series);
    return { kubelet, writer, relist, metrics };
  }

  it('on (the default): the sync relists its pod, the events come at once, one observation', async () => {
    const { kubelet, writer, relist, metrics } = await start();
    const updates: string[] = [];
    const updatePod = kubelet.workers.updatePod.bind(kubelet.workers);
    vi.spyOn(kubelet.workers, 'updatePod').mockImplementation((update) => {
      updates.push(update.updateType);
      updatePod(update);
    });
    const p = testPod();
    kubelet.addPod(p);
    await kubelet.settle();
    expect(relist).not.toHaveBeenCalled();
    // The sandbox's and the container's ContainerStarted, each resyncing the pod.
    expect(updates).toEqual(['create', 'sync', 'sync']);
    expect(writer.patches.map((patch) => patch.status.phase)).toEqual(['Pending', 'Running']);
    // The follow-up sync those events asked for did nothing to the runtime: no second relist.
    expect(await metrics('kubelet_pleg_pod_relist_duration_seconds_count')).toBe(1);
  });

  it('off: nothing reads the pod after its sync; Running waits for the next relist, as upstream', async () => {
    const { kubelet, writer, relist, metrics } = await start({ PLEGOnDemandRelist: false });
    const p = testPod();
    kubelet.addPod(p);
    await kubelet.settle();
    expect(relist).not.toHaveBeenCalled();
    expect(writer.patches.map((patch) => patch.status.phase)).toEqual(['Pending']);
    expect(kubelet.runtimeStatus(p.metadata.uid!)).toBeUndefined();
    expect(await metrics('kubelet_pleg_pod_relist_duration_seconds_count')).toBe(0);
    await kubelet.pleg.relist();
    await kubelet.settle();
    expect(writer.patches.map((patch) => patch.status.phase)).toEqual(['Pending', 'Running']);
    expect(await metrics('kubelet_pleg_pod_relist_duration_seconds_count')).toBe(0);
  });

  it('a sync where a step failed is not relisted; its pod is only read back for its status', async () => {
    const { kubelet, writer, metrics } = await start();
    const p = testPod({ containers: [{ name: 'app', image: 'localhost/nodeagent/missing:1' }] });
    kubelet.addPod(p);
    await kubelet.settle();
    const waiting = writer.last(p.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;
    expect(waiting?.reason).toBe('ErrImagePull');
    expect(kubelet.runtimeStatus(p.metadata.uid!)?.sandboxes[0]?.ready).toBe(true);
    expect(await metrics('kubelet_pleg_pod_relist_duration_seconds_count')).toBe(0);
  });
});
