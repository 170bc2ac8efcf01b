/**
 * In-place pod resize through the whole engine (Kubelet → PodResizer → pod cgroup → CRI) on the
 * fake CRI runtime, an injected FakeClock and a cgroup v1 tree in a temporary directory: the pod
 * is updated as the API server's pods/resize leaves it (spec resources changed, generation + 1).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';

let harness: EngineHarness | undefined;
let cgroupTree: string | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  if (cgroupTree) await rm(cgroupTree, { recursive: true, force: true });
  cgroupTree = undefined;
});

const events: string[] = [];

async function engine(
  withCgroups = true,
): Promise<{ h: EngineHarness; cgroups?: PodCgroupManager; root: string }> {
  events.length = 0;
  const root = await mkdtemp(join(tmpdir(), `na-resize-engine-${process.pid}-`));
  cgroupTree = root;
  for (const c of ['cpu', 'memory', 'pids']) await mkdir(join(root, c), { recursive: true });
  const cgroups = withCgroups
    ? new PodCgroupManager({ fs: new CgroupV1Filesystem(root), cgroupDriver: 'cgroupfs', cgroupRoot: '/' })
    : undefined;
  harness = await startEngine({
    cgroups,
    node: {
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    },
    api: {
      recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    },
  });
  return { h: harness, cgroups, root };
}

function resizable(name: string, resources: Container['resources'], generation = 1): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-resize-${name}`, generation },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources,
          resizePolicy: [
            { resourceName: 'cpu', restartPolicy: 'NotRequired' },
            { resourceName: 'memory', restartPolicy: 'RestartContainer' },
          ],
        },
      ],
    },
  };
}

const guaranteed = (cpu: string, memory = '64Mi') => ({
  requests: { cpu, memory },
  limits: { cpu, memory },
});

describe('in-place resize through the kubelet engine (fake CRI, FakeClock)', () => {
  it('a CPU resize: pod cgroup and status follow, ResizeStarted/ResizeCompleted, observedGeneration', async () => {
    const { h, cgroups, root } = await engine();
    const pod = resizable('g', guaranteed('200m'));
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const podPath = cgroups!.podCgroupPath(pod);
    await writeFile(join(root, 'memory', podPath, 'memory.usage_in_bytes'), '4096');
    expect(await readFile(join(root, 'cpu', podPath, 'cpu.shares'), 'utf8')).toBe('204');

    h.kubelet.updatePod(resizable('g', guaranteed('300m'), 2));
    await h.settleThroughRelists();
    expect(await readFile(join(root, 'cpu', podPath, 'cpu.shares'), 'utf8')).toBe('307');
    expect(await readFile(join(root, 'cpu', podPath, 'cpu.cfs_quota_us'), 'utf8')).toBe('30000');
    const status = h.writer.last(pod.metadata.uid!)!;
    expect(status.observedGeneration).toBe(2);
    expect(status.containerStatuses![0]!.allocatedResources).toEqual({ cpu: '300m', memory: '64Mi' });
    expect(status.containerStatuses![0]!.resources).toEqual(guaranteed('300m'));
    expect(status.resources).toEqual(guaranteed('300m'));
    expect(status.conditions!.filter((c) => c.type.startsWith('PodResize'))).toEqual([]);
    expect(status.containerStatuses![0]!.restartCount).toBe(0);
    expect(events.filter((e) => e.includes('Resize'))).toEqual([
      'Normal ResizeStarted Pod resize started: {"containers":[{"name":"c","resources":{"limits":{"cpu":"300m","memory":"64Mi"},"requests":{"cpu":"300m","memory":"64Mi"}}}],"generation":2}',
      'Normal ResizeCompleted Pod resize completed: {"containers":[{"name":"c","resources":{"limits":{"cpu":"300m","memory":"64Mi"},"requests":{"cpu":"300m","memory":"64Mi"}}}],"generation":2}',
    ]);
  });

  it('a memory resize under RestartContainer restarts the container at once (no back-off), twice', async () => {
    const { h, cgroups, root } = await engine();
    const burstable = (memReq: string, memLim: string, generation: number) =>
      resizable(
        'b',
        { requests: { cpu: '50m', memory: memReq }, limits: { cpu: '100m', memory: memLim } },
        generation,
      );
    const pod = burstable('32Mi', '64Mi', 1);
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    await writeFile(join(root, 'memory', cgroups!.podCgroupPath(pod), 'memory.usage_in_bytes'), '4096');
    h.kubelet.updatePod(burstable('48Mi', '128Mi', 2));
    await h.settleThroughRelists();
    let status = h.writer.last(pod.metadata.uid!)!;
    expect(status.containerStatuses![0]!.restartCount).toBe(1);
    expect(status.containerStatuses![0]!.state.running).toBeDefined();
    expect(status.containerStatuses![0]!.resources?.limits?.memory).toBe('128Mi');
    h.kubelet.updatePod(burstable('32Mi', '48Mi', 3));
    await h.settleThroughRelists();
    status = h.writer.last(pod.metadata.uid!)!;
    expect(status.containerStatuses![0]!.restartCount).toBe(2);
    expect(status.containerStatuses![0]!.state.running).toBeDefined();
    expect(status.conditions!.filter((c) => c.type.startsWith('PodResize'))).toEqual([]);
    expect(
      events.filter((e) => /Resize|Killing/.test(e)).map((e) => e.split(' ').slice(0, 2).join(' ')),
    ).toEqual([
      'Normal ResizeStarted',
      'Normal Killing',
      'Normal ResizeCompleted',
      'Normal ResizeStarted',
      'Normal Killing',
      'Normal ResizeCompleted',
    ]);
    expect(events).toContain('Normal Killing Container c resize requires restart');
  });

  it('defers a resize without room and applies it when another pod shrinks', async () => {
    const { h, cgroups, root } = await engine();
    const g = resizable('g', guaranteed('150m'));
    const b = resizable('b', {
      requests: { cpu: '50m', memory: '32Mi' },
      limits: { cpu: '100m', memory: '48Mi' },
    });
    h.kubelet.addPod(g);
    h.kubelet.addPod(b);
    await h.settleThroughRelists();
    for (const p of [g, b])
      await writeFile(join(root, 'memory', cgroups!.podCgroupPath(p), 'memory.usage_in_bytes'), '4096');
    h.kubelet.updatePod(
      resizable('b', { requests: { cpu: '1900m', memory: '32Mi' }, limits: { cpu: '2', memory: '48Mi' } }, 6),
    );
    await h.settleThroughRelists();
    const pending = h.writer.last(b.metadata.uid!)!.conditions![0]!;
    expect(pending).toMatchObject({
      type: 'PodResizePending',
      status: 'True',
      reason: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1900, used: 150, capacity: 2000",
      observedGeneration: 6,
    });
    expect(h.writer.last(b.metadata.uid!)!.containerStatuses![0]!.allocatedResources?.cpu).toBe('50m');
    h.kubelet.updatePod(resizable('g', guaranteed('100m'), 2));
    await h.settleThroughRelists();
    const after = h.writer.last(b.metadata.uid!)!;
    expect(after.conditions!.filter((c) => c.type.startsWith('PodResize'))).toEqual([]);
    expect(after.containerStatuses![0]!.allocatedResources?.cpu).toBe('1900m');
    expect(await readFile(join(root, 'cpu', cgroups!.podCgroupPath(b), 'cpu.shares'), 'utf8')).toBe('1945');
    expect(events.filter((e) => e.includes('ResizeDeferred'))).toHaveLength(1);
  });

  it('keeps allocations across a kubelet restart: a deferred resize stays unapplied, the applied one stays applied', async () => {
    const { h, cgroups, root } = await engine();
    const g = resizable('g', guaranteed('150m'));
    const b = resizable('b', {
      requests: { cpu: '50m', memory: '32Mi' },
      limits: { cpu: '100m', memory: '48Mi' },
    });
    h.kubelet.addPod(g);
    h.kubelet.addPod(b);
    await h.settleThroughRelists();
    for (const p of [g, b])
      await writeFile(join(root, 'memory', cgroups!.podCgroupPath(p), 'memory.usage_in_bytes'), '4096');
    const g2 = resizable('g', guaranteed('300m'), 2);
    const b2 = resizable(
      'b',
      { requests: { cpu: '1900m', memory: '32Mi' }, limits: { cpu: '2', memory: '48Mi' } },
      2,
    );
    h.kubelet.updatePod(g2);
    await h.settleThroughRelists();
    h.kubelet.updatePod(b2);
    await h.settleThroughRelists();
    await h.kubelet.stop();
    // A new kubelet process on the same root dir and runtime, given the pods as the API has them.
    const next = await h.restart();
    next.addPod(g2);
    next.addPod(b2);
    await next.settle();
    await next.pleg.relist();
    await next.settle();
    const statusG = next.getPodStatus(g.metadata.uid!)!;
    const statusB = next.getPodStatus(b.metadata.uid!)!;
    expect(statusG.containerStatuses![0]!.allocatedResources?.cpu).toBe('300m');
    expect(statusG.containerStatuses![0]!.restartCount).toBe(0);
    expect(statusB.containerStatuses![0]!.allocatedResources?.cpu).toBe('50m');
    expect(statusB.conditions![0]).toMatchObject({
      type: 'PodResizePending',
      reason: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1900, used: 300, capacity: 2000",
    });
    expect(await readFile(join(root, 'cpu', cgroups!.podCgroupPath(g), 'cpu.shares'), 'utf8')).toBe('307');
  });

  it('without pod cgroups (cgroupsPerQOS: false) answers a resize with PodResizePending Infeasible and keeps running', async () => {
    const { h } = await engine(false);
    const pod = resizable('p', guaranteed('200m'));
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    h.kubelet.updatePod(resizable('p', guaranteed('300m'), 2));
    await h.settleThroughRelists();
    const status = h.writer.last(pod.metadata.uid!)!;
    expect(status.phase).toBe('Running');
    expect(status.conditions![0]).toMatchObject({
      type: 'PodResizePending',
      reason: 'Infeasible',
      message: expect.stringContaining('cgroupsPerQOS: false'),
    });
    expect(status.containerStatuses![0]!.allocatedResources?.cpu).toBe('200m');
  });
});
