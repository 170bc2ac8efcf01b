import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod, PodStatus } from '../src/api/pod-types';
import { CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { PodResizer } from '../src/sync/pod-resizer';

let dir: string;
let clock: FakeClock;
let cgroups: PodCgroupManager;
let events: { pod: string; type: string; reason: string; message: string }[];
let updates: { id: string; cpuShares: number; cpuQuota: number; memory: number; podShares: string }[];
let resyncs: string[];
let active: Pod[];

function pod(name: string, uid: string, resources: Container['resources'], generation = 1): Pod {
  return {
    metadata: { name, namespace: 'rs', uid, generation },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          resources,
          resizePolicy: [
            { resourceName: 'cpu', restartPolicy: 'NotRequired' },
            { resourceName: 'memory', restartPolicy: 'RestartContainer' },
          ],
        } as Container,
      ],
    },
  };
}

const running = (uid: string, id: string): PodRuntimeStatus => ({
  uid,
  name: uid,
  namespace: 'rs',
  sandboxes: [{ id: 's', attempt: 0, ready: true, createdAt: 1, ips: ['10.0.0.2'], hostNetwork: false }],
  containers: [
    {
      id,
      name: 'c',
      state: 'running',
      restartCount: 0,
      hash: '',
      createdAt: 2,
      image: 'busybox',
      imageRef: 'x',
    },
  ],
});

const status = (): PodStatus => ({
  conditions: [{ type: 'Ready', status: 'True' }],
  containerStatuses: [
    {
      name: 'c',
      state: { running: {} },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: '',
      imageID: '',
    },
  ],
});

function resizer(withCgroups = true, onError?: (pod: string, error: string) => void): PodResizer {
  const made1 = new PodResizer({
    logger: {
      info() {},
      warn: (fields) => {
        const { pod, err } = fields as { pod: string; err: string };
        onError?.(pod, err);
      },
      error() {},
    },
    rootDir: join(dir, 'root'),
    cgroups: withCgroups ? cgroups : undefined,
    runtime: {
      updateContainerResources: async (id, resources) => {
        updates.push({
          id,
          cpuShares: Number(resources.cpuShares),
          cpuQuota: Number(resources.cpuQuota),
          memory: Number(resources.memoryLimitInBytes),
          podShares: await readFile(
            join(dir, 'cg', 'cpu', cgroups.podCgroupPath(active[0]!), 'cpu.shares'),
            'utf8',
          ).catch(() => '?'),
        });
      },
    },
    containerResources: { memoryCapacity: 8 * 1024 ** 3 },
    clock,
    recordEvent: (p, type, reason, message) =>
      events.push({ pod: p.metadata.name ?? '', type, reason, message }),
    node: { allocatable: { cpu: '2', memory: '24683072Ki' } },
    pods: { activePods: () => active, resync: (uid) => resyncs.push(uid) },
  });
  made.push(made1);
  return made1;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-resizer-${process.pid}-`));
  for (const c of ['cpu', 'memory', 'pids']) await mkdir(join(dir, 'cg', c), { recursive: true });
  clock = new FakeClock(Date.UTC(2026, 0, 1));
  cgroups = new PodCgroupManager({
    fs: new CgroupV1Filesystem(join(dir, 'cg')),
    cgroupDriver: 'cgroupfs',
    cgroupRoot: '/',
  });
  events = [];
  updates = [];
  resyncs = [];
  active = [];
});
let made: PodResizer[] = [];

afterEach(async () => {
  // Records are written behind the status: let them land before the directory goes.
  for (const r of made) await r.store.settled();
  made = [];
  await rm(dir, { recursive: true, force: true });
});

async function podCgroup(p: Pod): Promise<void> {
  await cgroups.ensurePod(p);
  await writeFile(join(dir, 'cg', 'memory', cgroups.podCgroupPath(p), 'memory.usage_in_bytes'), '1000');
}

describe('PodResizer on a fake runtime and a cgroup tree in a temporary directory', () => {
  it('an in-place CPU resize: allocated, pod cgroup then container, status and events as resize-v1.36 (B cpu-up)', async () => {
    const r = resizer();
    await r.start();
    const before = pod('rs-burstable', 'b', {
      requests: { cpu: '100m', memory: '32Mi' },
      limits: { cpu: '200m', memory: '64Mi' },
    });
    active = [before];
    expect(await r.allocate(before)).toBe(before);
    await podCgroup(before);
    const s0 = status();
    await r.report(before, before, running('b', 'c1'), s0);
    expect(s0.containerStatuses![0]!.allocatedResources).toEqual({ cpu: '100m', memory: '32Mi' });

    const after = pod(
      'rs-burstable',
      'b',
      { requests: { cpu: '200m', memory: '32Mi' }, limits: { cpu: '400m', memory: '64Mi' } },
      2,
    );
    active = [after];
    const allocated = await r.allocate(after);
    expect(allocated.spec.containers[0]!.resources?.limits?.cpu).toBe('400m');
    expect(r.conditions.inProgress('b')).toMatchObject({
      type: 'PodResizeInProgress',
      observedGeneration: 2,
    });
    expect(
      await r.actuate(allocated, running('b', 'c1'), async () => {
        throw new Error('no kill expected');
      }),
    ).toBe(false);
    // The pod cgroup's shares were raised before the container's update.
    expect(updates).toEqual([
      { id: 'c1', cpuShares: 204, cpuQuota: 40000, memory: 67108864, podShares: '204' },
    ]);
    const s1 = status();
    await r.report(after, allocated, running('b', 'c1'), s1);
    expect(s1.containerStatuses![0]!.allocatedResources).toEqual({ cpu: '200m', memory: '32Mi' });
    expect(s1.containerStatuses![0]!.resources).toEqual({
      limits: { cpu: '400m', memory: '64Mi' },
      requests: { cpu: '200m', memory: '32Mi' },
    });
    expect(s1.resources).toEqual({
      limits: { cpu: '400m', memory: '64Mi' },
      requests: { cpu: '200m', memory: '32Mi' },
    });
    expect(s1.conditions!.map((c) => c.type)).toEqual(['Ready']);
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual([
      'Normal ResizeStarted',
      'Normal ResizeCompleted',
    ]);
    expect(events[1]!.message).toBe(
      'Pod resize completed: {"containers":[{"name":"c","resources":{"limits":{"cpu":"400m","memory":"64Mi"},"requests":{"cpu":"200m","memory":"32Mi"}}}],"generation":2}',
    );
  });

  it('a memory resize under RestartContainer kills the container and stays in progress until the new one runs', async () => {
    const r = resizer();
    await r.start();
    const before = pod('rs-burstable', 'b', {
      requests: { cpu: '50m', memory: '32Mi' },
      limits: { cpu: '100m', memory: '64Mi' },
    });
    active = [before];
    await r.allocate(before);
    await podCgroup(before);
    await r.report(before, before, running('b', 'c1'), status());
    const after = pod(
      'rs-burstable',
      'b',
      { requests: { cpu: '50m', memory: '48Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
      4,
    );
    active = [after];
    const allocated = await r.allocate(after);
    const killed: string[] = [];
    expect(
      await r.actuate(
        allocated,
        running('b', 'c1'),
        async (_p, c, id, message) => void killed.push(`${c.name} ${id} ${message}`),
      ),
    ).toBe(true);
    expect(killed).toEqual(['c c1 Container c resize requires restart']);
    expect(updates).toEqual([]);
    const memoryLimit = await readFile(
      join(dir, 'cg', 'memory', cgroups.podCgroupPath(after), 'memory.limit_in_bytes'),
      'utf8',
    );
    expect(memoryLimit).toBe('134217728');
    const exited: PodRuntimeStatus = {
      ...running('b', 'c1'),
      containers: [{ ...running('b', 'c1').containers[0]!, state: 'exited' }],
    };
    const s1 = status();
    await r.report(after, allocated, exited, s1);
    expect(s1.conditions![0]).toMatchObject({
      type: 'PodResizeInProgress',
      status: 'True',
      observedGeneration: 4,
    });
    const s2 = status();
    await r.report(after, allocated, running('b', 'c2'), s2);
    expect(s2.conditions!.map((c) => c.type)).toEqual(['Ready']);
    expect(s2.containerStatuses![0]!.resources).toEqual({
      limits: { cpu: '100m', memory: '128Mi' },
      requests: { cpu: '50m', memory: '48Mi' },
    });
    // The pod's memory request as admitted (upstream reports no resized pod memory request).
    expect(s2.resources?.requests).toEqual({ cpu: '50m', memory: '32Mi' });
    expect(events.map((e) => e.reason)).toEqual(['ResizeStarted', 'ResizeCompleted']);
  });

  it('defers a resize the free room cannot take and retries it when another allocation shrinks', async () => {
    const r = resizer();
    await r.start();
    const g = pod('rs-guaranteed', 'g', {
      requests: { cpu: '150m', memory: '48Mi' },
      limits: { cpu: '150m', memory: '48Mi' },
    });
    const b = pod('rs-burstable', 'b', {
      requests: { cpu: '50m', memory: '32Mi' },
      limits: { cpu: '100m', memory: '48Mi' },
    });
    active = [b, g];
    await r.allocate(g);
    await r.allocate(b);
    const bigger = pod(
      'rs-burstable',
      'b',
      { requests: { cpu: '1900m', memory: '32Mi' }, limits: { cpu: '2', memory: '48Mi' } },
      6,
    );
    active = [bigger, g];
    const allocated = await r.allocate(bigger);
    expect(allocated.spec.containers[0]!.resources?.requests?.cpu).toBe('50m');
    expect(r.conditions.pending('b')).toMatchObject({
      type: 'PodResizePending',
      reason: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1900, used: 150, capacity: 2000",
      observedGeneration: 6,
    });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'ResizeDeferred',
        message: expect.stringMatching(/^Pod resize OutOfcpu: /),
      }),
    ]);
    // Asked again with nothing changed: no second event.
    await r.allocate(bigger);
    expect(events).toHaveLength(1);
    const smallerG = pod(
      'rs-guaranteed',
      'g',
      { requests: { cpu: '100m', memory: '48Mi' }, limits: { cpu: '100m', memory: '48Mi' } },
      6,
    );
    active = [bigger, smallerG];
    await r.allocate(smallerG);
    expect(resyncs).toEqual(['b']);
    const now = await r.allocate(bigger);
    expect(now.spec.containers[0]!.resources?.requests?.cpu).toBe('1900m');
    expect(r.conditions.pending('b')).toBeUndefined();
  });

  it("a started container's actuated record does not hold the status back: report resolves before the checkpoint is written, which lands after", async () => {
    const r = resizer();
    await r.start();
    const p = pod('rs-new', 'n', { requests: { cpu: '50m' }, limits: { cpu: '100m' } });
    const file = join(dir, 'root', 'actuated_pods_state');
    await r.report(p, p, running('n', 'c1'), status());
    // Recorded at once, in memory; the file is not there yet: report awaited no I/O, and the
    // write's rename waits for its earlier steps' callbacks, which need a turn of the event loop.
    // (Checked synchronously: an async read could lose the race with the write on a loaded machine.)
    expect(r.store.actuatedResources('n', 'c')?.containerId).toBe('c1');
    expect(existsSync(file)).toBe(false);
    await r.store.settled();
    // Upstream's file names the container only.
    const written = JSON.parse(await readFile(file, 'utf8')) as { data: string };
    expect(JSON.parse(written.data).entries.n.ContainerResources).toEqual({
      c: { limits: { cpu: '100m' }, requests: { cpu: '50m' } },
    });
  });

  it('a failed actuated-record write is reported to the logger, and the status is still reported', async () => {
    const errors: string[] = [];
    // The root directory is a file: every checkpoint write fails.
    await writeFile(join(dir, 'root'), 'not a directory');
    const r = resizer(true, (_pod, error) => errors.push(String(error)));
    const p = pod('rs-ro', 'w', { requests: { cpu: '50m' }, limits: { cpu: '100m' } });
    const s = status();
    await r.report(p, p, running('w', 'c1'), s);
    expect(s.containerStatuses?.[0]?.resources).toEqual({
      requests: { cpu: '50m' },
      limits: { cpu: '100m' },
    });
    await r.store.settled();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/recording the actuated resources: .*(ENOTDIR|EEXIST)/);
  });

  it('with cgroupsPerQOS false a resize is refused with a clear condition, never applied', async () => {
    const r = resizer(false);
    await r.start();
    const before = pod('p', 'p', { requests: { cpu: '100m' } });
    active = [before];
    await r.allocate(before);
    const after = pod('p', 'p', { requests: { cpu: '150m' } }, 2);
    const allocated = await r.allocate(after);
    expect(allocated.spec.containers[0]!.resources?.requests?.cpu).toBe('100m');
    expect(await r.actuate(allocated, running('p', 'c1'), async () => {})).toBe(false);
    const s = status();
    await r.report(after, allocated, running('p', 'c1'), s);
    expect(s.conditions![0]).toMatchObject({
      type: 'PodResizePending',
      reason: 'Infeasible',
      message: expect.stringContaining('cgroupsPerQOS: false'),
      observedGeneration: 2,
    });
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning ResizeInfeasible']);
  });
});
