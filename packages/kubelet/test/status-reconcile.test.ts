import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../src/api/pod-types';
import { generatePodStatus } from '../src/status/generate-pod-status';
import { isPodStatusByKubeletEqual, normalizePodStatus } from '../src/status/pod-status-equality';
import { STATUS_SYNC_PERIOD_MS, StatusManager } from '../src/status/status-manager';
import { runningPodRuntimeStatus } from './helpers/running-pod-runtime-status';

/** Lets the write loops woken by a reconcile finish before time moves on. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const condition = (status: PodStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type)?.status;

/**
 * A fake API server holding each pod's copy: a status write merges into it (JSON merge patch:
 * top-level fields replaced, arrays whole) and bumps its resourceVersion when it changed
 * something; with `echo` the kubelet's copy (apiPodOf) follows at once, as the watch delivers it.
 * Times come back in seconds, lists as JSON, the way the API server renders them.
 */
class FakeApi {
  readonly pods = new Map<string, Pod>();
  readonly writes: { uid: string; status: PodStatus }[] = [];
  private version = 1;
  echo = true;
  /** What the kubelet last saw of each pod (the informer's copy). */
  readonly seen = new Map<string, Pod>();

  put(pod: Pod): void {
    const stored = {
      ...structuredClone(pod),
      metadata: { ...pod.metadata, resourceVersion: String(++this.version) },
    };
    this.pods.set(pod.metadata.uid ?? '', stored);
    this.seen.set(pod.metadata.uid ?? '', stored);
  }

  /** A client's replace of pods/status (kubectl, a controller). */
  replaceStatus(uid: string, edit: (status: PodStatus) => void): void {
    const pod = structuredClone(this.pods.get(uid)!);
    edit(pod.status!);
    this.put(pod);
  }

  patchStatus = async (pod: Pod, status: PodStatus): Promise<void> => {
    const uid = pod.metadata.uid ?? '';
    this.writes.push({ uid, status: structuredClone(status) });
    const current = this.pods.get(uid) ?? { ...pod, status: {} };
    const next = { ...current, status: { ...(current.status ?? {}), ...JSON.parse(JSON.stringify(status)) } };
    if (JSON.stringify(next.status) === JSON.stringify(current.status)) return;
    const stored = { ...next, metadata: { ...next.metadata, resourceVersion: String(++this.version) } };
    this.pods.set(uid, stored);
    if (this.echo) this.seen.set(uid, stored);
  };
}

/** A pod `web-<n>` (uid-<n>) with one running container, as the API server created it. */
function apiPod(n: number, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: `web-${n}`, namespace: 'default', uid: `uid-${n}`, generation: 1, ...extra },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

function setup(options: { apiPodOf?: (api: FakeApi, uid: string) => Pod | undefined } = {}) {
  const clock = new FakeClock();
  const api = new FakeApi();
  const manager = new StatusManager({
    writer: { patchStatus: api.patchStatus },
    clock,
    apiPodOf: (uid) => (options.apiPodOf ? options.apiPodOf(api, uid) : api.seen.get(uid)),
  });
  const stop = manager.startReconcile();
  const startedAt = clock.now() - 1_234;
  /** The kubelet's sync: the status generated for a running pod (with a millisecond start time). */
  const sync = (pod: Pod) => {
    const runtime = { ...runningPodRuntimeStatus(startedAt), uid: pod.metadata.uid ?? '' };
    const current = manager.withLastStatus(api.seen.get(pod.metadata.uid ?? '') ?? pod);
    manager.setPodStatus(
      pod,
      generatePodStatus(current, runtime, { now: clock.now(), hostIPs: ['192.168.0.1'] }),
    );
  };
  const periods = async (count: number) => {
    for (let i = 0; i < count; i++) await clock.advanceAsync(STATUS_SYNC_PERIOD_MS, settle);
    await manager.flush();
  };
  return { clock, api, manager, stop, sync, periods };
}

describe('status manager reconcile (upstream syncBatch/needsReconcile)', () => {
  it("puts the kubelet's Ready=True back at the next reconcile after a client replaced it, then writes nothing", async () => {
    const { api, manager, sync, periods, stop } = setup();
    const pod = apiPod(1);
    api.put(pod);
    sync(pod);
    await manager.flush();
    expect(api.writes).toHaveLength(1);
    expect(condition(api.pods.get('uid-1')!.status, 'Ready')).toBe('True');

    api.replaceStatus('uid-1', (status) => {
      for (const c of status.conditions ?? [])
        if (c.type === 'Ready' || c.type === 'ContainersReady') c.status = 'False';
    });
    expect(condition(api.pods.get('uid-1')!.status, 'Ready')).toBe('False');
    await periods(1);
    expect(api.writes).toHaveLength(2);
    expect(condition(api.pods.get('uid-1')!.status, 'Ready')).toBe('True');
    expect(condition(api.pods.get('uid-1')!.status, 'ContainersReady')).toBe('True');
    await periods(3);
    expect(api.writes).toHaveLength(2);
    stop();
  });

  it('writes nothing for 110 steady pods over five reconcile periods', async () => {
    const { api, manager, sync, periods, stop } = setup();
    const pods = Array.from({ length: 110 }, (_, n) => apiPod(n));
    for (const pod of pods) api.put(pod);
    for (const pod of pods) sync(pod);
    await manager.flush();
    expect(api.writes).toHaveLength(110);
    await periods(5);
    expect(api.writes).toHaveLength(110);
    // The syncs go on (the kubelet's periodic resync): same status, still no write.
    for (const pod of pods) sync(pod);
    await periods(2);
    expect(api.writes).toHaveLength(110);
    stop();
  });

  it('keeps a condition a client added: the reconcile write carries it with Ready=True', async () => {
    const { api, manager, sync, periods, stop } = setup();
    const pod = apiPod(1);
    api.put(pod);
    sync(pod);
    await manager.flush();
    api.replaceStatus('uid-1', (status) => {
      status.conditions = (status.conditions ?? []).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False' } : c,
      );
      status.conditions.push({ type: 'example.com/gate', status: 'True', reason: 'Checked' });
    });
    await periods(1);
    expect(api.writes).toHaveLength(2);
    const written = api.writes[1]!.status;
    expect(condition(written, 'Ready')).toBe('True');
    expect(written.conditions?.find((c) => c.type === 'example.com/gate')).toMatchObject({
      status: 'True',
      reason: 'Checked',
    });
    expect(condition(api.pods.get('uid-1')!.status, 'example.com/gate')).toBe('True');
    // A foreign condition alone never makes the kubelet write.
    api.replaceStatus('uid-1', (status) => {
      status.conditions = status.conditions?.map((c) =>
        c.type === 'example.com/gate' ? { ...c, status: 'False' as const } : c,
      );
    });
    await periods(2);
    expect(api.writes).toHaveLength(2);
    stop();
  });

  it('writes once per API version when the copy never shows the write (no write loop)', async () => {
    const { api, manager, sync, periods, stop } = setup();
    const pod = apiPod(1);
    api.put(pod);
    sync(pod);
    await manager.flush();
    api.replaceStatus('uid-1', (status) => {
      status.phase = 'Pending';
    });
    // The watch is stuck: the kubelet's copy keeps showing the client's Pending.
    api.echo = false;
    await periods(4);
    expect(api.writes).toHaveLength(2);
    expect(api.pods.get('uid-1')!.status?.phase).toBe('Running');
    stop();
  });

  it('compares a static pod with its mirror pod, and skips it while no mirror pod is known', async () => {
    const staticUid = 'static-uid';
    let mirror: Pod | undefined;
    const { api, manager, periods, clock, stop } = setup({
      apiPodOf: (fake, uid) =>
        uid === staticUid ? mirror && fake.seen.get(mirror.metadata.uid!) : fake.seen.get(uid),
    });
    const staticPod: Pod = {
      metadata: {
        name: 'etcd-node',
        namespace: 'kube-system',
        uid: staticUid,
        annotations: { 'kubernetes.io/config.source': 'file' },
      },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    };
    const runtime = { ...runningPodRuntimeStatus(clock.now()), uid: staticUid };
    const status = generatePodStatus(staticPod, runtime, { now: clock.now(), hostIPs: ['192.168.0.1'] });
    // The first write goes to the API (the writer would address the mirror pod); none is known yet.
    manager.setPodStatus(staticPod, status);
    await manager.flush();
    expect(api.writes).toHaveLength(1);
    await periods(2);
    expect(api.writes).toHaveLength(1);

    // The mirror pod appears with the kubelet's status; then a client turns its Ready False.
    mirror = { ...staticPod, metadata: { ...staticPod.metadata, uid: 'mirror-uid' }, status };
    api.put(mirror);
    await periods(2);
    expect(api.writes).toHaveLength(1);
    api.replaceStatus('mirror-uid', (s) => {
      s.conditions = s.conditions?.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const } : c));
    });
    await periods(1);
    expect(api.writes).toHaveLength(2);
    expect(api.writes[1]!.uid).toBe(staticUid);
    expect(condition(api.writes[1]!.status, 'Ready')).toBe('True');
    stop();
  });

  it('reconciles a terminated pod still known, not a deleted or removed one', async () => {
    const { api, manager, periods, clock, stop } = setup();
    const pod = apiPod(1);
    api.put(pod);
    const runtime = runningPodRuntimeStatus(clock.now());
    const exited = {
      ...runtime,
      containers: runtime.containers.map((c) => ({
        ...c,
        state: 'exited' as const,
        finishedAt: clock.now(),
      })),
    };
    const finished = generatePodStatus(pod, exited, { now: clock.now(), hostIPs: ['192.168.0.1'] });
    finished.phase = 'Succeeded';
    manager.setPodStatus(pod, finished);
    await manager.flush();
    expect(api.writes).toHaveLength(1);
    api.replaceStatus('uid-1', (status) => {
      status.phase = 'Running';
    });
    await periods(1);
    expect(api.writes).toHaveLength(2);
    expect(api.pods.get('uid-1')!.status?.phase).toBe('Succeeded');

    // Deleted from the API (the kubelet's copy is gone): nothing to reconcile against.
    api.replaceStatus('uid-1', (status) => {
      status.phase = 'Running';
    });
    api.seen.delete('uid-1');
    await periods(2);
    expect(api.writes).toHaveLength(2);
    // Forgotten by the kubelet: nothing either, even with a copy again.
    api.put(api.pods.get('uid-1')!);
    manager.removePod('uid-1');
    await periods(2);
    expect(api.writes).toHaveLength(2);
    stop();
  });

  it('tries a failed reconcile write again at the next reconcile, without crashing', async () => {
    const clock = new FakeClock();
    const api = new FakeApi();
    const errors: unknown[] = [];
    let failures = 1;
    const manager = new StatusManager({
      writer: {
        patchStatus: async (pod, status) => {
          if (api.writes.length > 0 && failures-- > 0) throw new Error('etcdserver: request timed out');
          await api.patchStatus(pod, status);
        },
      },
      clock,
      onError: (_pod, error) => errors.push(error),
      apiPodOf: (uid) => api.seen.get(uid),
    });
    const stop = manager.startReconcile();
    const pod = apiPod(1);
    api.put(pod);
    const runtime = runningPodRuntimeStatus(clock.now());
    manager.setPodStatus(
      pod,
      generatePodStatus(pod, runtime, { now: clock.now(), hostIPs: ['192.168.0.1'] }),
    );
    await manager.flush();
    api.replaceStatus('uid-1', (status) => {
      status.phase = 'Pending';
    });
    await clock.advanceAsync(STATUS_SYNC_PERIOD_MS, settle);
    await manager.flush();
    expect(errors).toHaveLength(1);
    expect(api.pods.get('uid-1')!.status?.phase).toBe('Pending');
    await clock.advanceAsync(STATUS_SYNC_PERIOD_MS, settle);
    await manager.flush();
    expect(api.pods.get('uid-1')!.status?.phase).toBe('Running');
    expect(api.writes).toHaveLength(2);
    stop();
  });

  it('stops reconciling when stopped', async () => {
    const { api, manager, sync, periods, stop } = setup();
    const pod = apiPod(1);
    api.put(pod);
    sync(pod);
    await manager.flush();
    stop();
    api.replaceStatus('uid-1', (status) => {
      status.phase = 'Pending';
    });
    await periods(3);
    expect(api.writes).toHaveLength(1);
  });
});

describe('isPodStatusByKubeletEqual over normalizePodStatus', () => {
  const pod: Pod = {
    metadata: { name: 'p', uid: 'u' },
    spec: {
      initContainers: [
        { name: 'z-init', image: 'i' },
        { name: 'a-init', image: 'i' },
      ],
      containers: [
        { name: 'b', image: 'i' },
        { name: 'a', image: 'i' },
      ],
    },
  };
  const own: PodStatus = {
    phase: 'Running',
    startTime: '2026-01-01T00:00:00.789Z',
    conditions: [
      { type: 'example.com/gate', status: 'False' },
      { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:01.5Z' },
    ],
    initContainerStatuses: [
      {
        name: 'z-init',
        ready: true,
        restartCount: 0,
        image: 'i',
        imageID: '',
        lastState: {},
        state: { terminated: { exitCode: 0 } },
      },
      {
        name: 'a-init',
        ready: true,
        restartCount: 0,
        image: 'i',
        imageID: '',
        lastState: {},
        state: { terminated: { exitCode: 0 } },
      },
    ],
    containerStatuses: [
      {
        name: 'b',
        ready: true,
        restartCount: 0,
        image: 'i',
        imageID: '',
        lastState: {},
        state: { running: { startedAt: '2026-01-01T00:00:02.1Z' } },
      },
      {
        name: 'a',
        ready: true,
        restartCount: 0,
        image: 'i',
        imageID: '',
        lastState: {},
        state: { running: { startedAt: '2026-01-01T00:00:02Z' } },
      },
    ],
  };
  const equal = (api: PodStatus, mine: PodStatus) =>
    isPodStatusByKubeletEqual(normalizePodStatus(pod, api), normalizePodStatus(pod, mine));

  it('sees the API rendering (seconds, name order, omitted zero values, foreign conditions) as equal', () => {
    const rendered: PodStatus = {
      phase: 'Running',
      startTime: '2026-01-01T00:00:00Z',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' },
        { type: 'example.com/gate', status: 'True' },
      ],
      initContainerStatuses: own.initContainerStatuses,
      containerStatuses: [
        {
          name: 'a',
          ready: true,
          restartCount: 0,
          image: 'i',
          state: { running: { startedAt: '2026-01-01T00:00:02Z' } },
          lastState: {},
        } as never,
        {
          name: 'b',
          ready: true,
          restartCount: 0,
          image: 'i',
          state: { running: { startedAt: '2026-01-01T00:00:02Z' } },
        } as never,
      ],
    };
    expect(equal(rendered, own)).toBe(true);
  });

  it('sees a changed kubelet condition, a missing one, or another field as different', () => {
    const flipped = structuredClone(own);
    flipped.conditions![1]!.status = 'False';
    expect(equal(flipped, own)).toBe(false);
    const reason = structuredClone(own);
    reason.conditions![1]!.reason = 'Client';
    expect(equal(reason, own)).toBe(false);
    expect(equal({ ...own, conditions: [] }, own)).toBe(false);
    expect(equal({ ...own, phase: 'Pending' }, own)).toBe(false);
    expect(equal({ ...own, podIP: '10.0.0.9' }, own)).toBe(false);
    // A kubelet condition only the API has is not the kubelet's to compare (upstream loops over its own).
    expect(
      equal({ ...own, conditions: [...own.conditions!, { type: 'PodScheduled', status: 'False' }] }, own),
    ).toBe(true);
  });

  it('cuts termination messages to the per-container share before comparing', () => {
    const long = (text: string) => ({
      ...own,
      containerStatuses: [
        {
          name: 'a',
          ready: false,
          restartCount: 0,
          image: 'i',
          imageID: '',
          lastState: {},
          state: { terminated: { exitCode: 1, message: text } },
        },
      ],
    });
    // 4 containers: 3072 bytes each; the tails differ past the cut.
    const head = 'x'.repeat(3072);
    expect(equal(long(`${head}API`), long(`${head}kubelet`))).toBe(true);
    expect(equal(long(`y${head}`), long(`${head}`))).toBe(false);
  });
});
