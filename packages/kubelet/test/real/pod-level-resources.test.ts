/**
 * Fixture pod `pod-resources` (pod-level spec.resources: 200m/64Mi requests, 400m/128Mi limits;
 * container a without resources, b with 50m/16Mi requests) on a real containerd with
 * cgroupsPerQOS in a private cgroupRoot (cgroup v1 here, as the recording), through the in-process
 * API server, against what upstream v1.36.3 made of it
 * (fidelity/pod-status-v1.36/pod-resources.cgroupsPerQOS.upstream.yaml): the pod and
 * container cgroup files, status.resources / allocatedResources / qosClass, the container
 * statuses' resources and the six events.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { Pod } from '../../src/api/pod-types';
import { type CgroupFilesystem, detectCgroupFilesystem } from '../../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../../src/cgroups/pod-cgroup-manager';
import { type NodeHarness, startNodeHarness } from './node-harness';

const fidelity = new URL('../../../../fidelity/', import.meta.url);
const fixtureText = (path: string) => readFileSync(new URL(path, fidelity), 'utf8');
const fixtureImage = 'localhost/busybox:1';

interface RecordedEvent {
  fieldPath?: string;
  type: string;
  reason: string;
  message: string;
}

const recorded = parse(fixtureText('pod-status-v1.36/pod-resources.cgroupsPerQOS.upstream.yaml')) as {
  pod: Pod;
  events: RecordedEvent[];
  cgroupsV1: { values: Record<string, Record<string, number>> };
};

const cgroupRoot = `/na-podres-${process.pid}`;
let node: NodeHarness;
let fs: CgroupFilesystem;
let cgroups: PodCgroupManager;
const events: RecordedEvent[] = [];

/** The stored fixture pod, on this node's busybox; the service-account volume (no token source here) left out. */
function fixturePod(): { metadata: Pod['metadata']; spec: Omit<Pod['spec'], 'nodeName'> } {
  const pods = parseAllDocuments(fixtureText('pods-v1.36/pods.yaml')).flatMap(
    (d) => (d.toJS() as Pod | null) ?? [],
  );
  const stored = pods.find((p) => p.metadata.name === 'pod-resources')!;
  const { nodeName: _bound, volumes: _volumes, ...spec } = structuredClone(stored.spec);
  for (const c of spec.containers) {
    c.image = node.busybox;
    delete c.volumeMounts;
  }
  return { metadata: { name: 'pod-resources' }, spec };
}

beforeAll(async () => {
  fs = await detectCgroupFilesystem();
  cgroups = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot });
  node = await startNodeHarness({
    kubelet: {
      cgroups,
      node: {
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      },
      api: {
        recordEvent: (pod, type, reason, message, fieldPath) => {
          if (pod.metadata.name === 'pod-resources') events.push({ fieldPath, type, reason, message });
        },
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await node?.stop();
  await fs?.remove(cgroupRoot).catch(() => undefined);
}, 120_000);

async function cgroupFiles(path: string): Promise<Record<string, number>> {
  return {
    'cpu.shares': Number(await fs.read(path, 'cpu.shares')),
    'cpu.cfs_quota_us': Number(await fs.read(path, 'cpu.cfs_quota_us')),
    'cpu.cfs_period_us': Number(await fs.read(path, 'cpu.cfs_period_us')),
    'memory.limit_in_bytes': Number(await fs.read(path, 'memory.limit_in_bytes')),
  };
}

describe('pod-level resources on a real containerd (cgroupsPerQOS, cgroup v1)', { timeout: 180_000 }, () => {
  it('pod and container cgroups, status and events as upstream v1.36.3 recorded', async () => {
    node.createPod(fixturePod());
    const pod = await node.waitPod('pod-resources', 'Running and Ready', (p) =>
      p.status?.phase === 'Running' &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? p
        : undefined,
    );
    const upstream = recorded.pod.status!;

    // cgroups: the pod's under kubepods/burstable, each container's inside it.
    const podPath = cgroups.podCgroupPath(pod);
    expect(podPath).toBe(`${cgroupRoot}/kubepods/burstable/pod${pod.metadata.uid}`);
    const containerId = (name: string) =>
      pod.status!.containerStatuses!.find((c) => c.name === name)!.containerID!.replace('containerd://', '');
    expect({
      'pod cgroup': await cgroupFiles(podPath),
      'container a': await cgroupFiles(`${podPath}/${containerId('a')}`),
      'container b': await cgroupFiles(`${podPath}/${containerId('b')}`),
    }).toEqual(recorded.cgroupsV1.values);

    // The sandbox config containerd was given (its verbose status echoes it): the pod-level values as CRI
    // resources (200m requested → 204 shares, 400m → 40000 µs per 100 ms period, 128Mi), no overhead.
    const [sandbox] = (
      await node.client.listPodSandbox({
        filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid! } },
      })
    ).items;
    const status = await node.client.podSandboxStatus({ podSandboxId: sandbox!.id, verbose: true });
    const sent = JSON.parse(status.info.info ?? '{}').config.linux;
    expect({ resources: sent.resources, overhead: sent.overhead }).toEqual({
      resources: {
        cpu_shares: 204,
        cpu_period: 100_000,
        cpu_quota: 40_000,
        memory_limit_in_bytes: 128 * 1024 ** 2,
      },
      overhead: {},
    });

    // Status: the fields pod-level resources decide, exactly as upstream wrote them.
    expect(pod.status!.qosClass).toBe(upstream.qosClass);
    expect(pod.status!.resources).toEqual(upstream.resources);
    expect(pod.status!.allocatedResources).toEqual(upstream.allocatedResources);
    const containers = (s: NonNullable<Pod['status']>) =>
      s.containerStatuses!.map(({ name, ready, started, restartCount, resources, allocatedResources }) => ({
        name,
        ready,
        started,
        restartCount,
        resources,
        allocatedResources,
      }));
    expect(containers(pod.status!)).toEqual(containers(upstream));
    const conditions = (s: NonNullable<Pod['status']>) =>
      (s.conditions ?? []).map(({ type, status, observedGeneration }) => ({
        type,
        status,
        observedGeneration,
      }));
    expect(conditions(pod.status!)).toEqual(conditions(upstream));
    expect(pod.status!.observedGeneration).toBe(upstream.observedGeneration);
    expect(pod.status!.phase).toBe(upstream.phase);
    const states = (s: NonNullable<Pod['status']>) =>
      s.containerStatuses!.map((c) => ({ state: Object.keys(c.state), lastState: c.lastState }));
    expect(states(pod.status!)).toEqual(states(upstream));

    // The six events, in order, with this node's image name in the Pulled message.
    expect(events).toEqual(
      recorded.events.map(({ fieldPath, type, reason, message }) => ({
        fieldPath,
        type,
        reason,
        message: message.replace(fixtureImage, node.busybox),
      })),
    );
  });

  it('a pod-level resize through pods/resize: pod cgroup and the containers without limits follow', async () => {
    node.setNodeAllocatable({ cpu: '2', memory: '4Gi', pods: '110' });
    const wanted = { limits: { cpu: '800m', memory: '256Mi' }, requests: { cpu: '300m', memory: '64Mi' } };
    node.api.registry.patch(
      node.api.resource('v1', 'pods'),
      'default',
      'pod-resources',
      'application/strategic-merge-patch+json',
      JSON.stringify({ spec: { resources: wanted } }),
      'resize',
    );
    const pod = await node.waitPod('pod-resources', 'pod-level resize applied', (p) =>
      p.metadata.generation === 2 &&
      p.status?.observedGeneration === 2 &&
      JSON.stringify(p.status.resources) === JSON.stringify(wanted) &&
      !(p.status.conditions ?? []).some((c) => c.type.startsWith('PodResize'))
        ? p
        : undefined,
    );
    expect(pod.status!.allocatedResources).toEqual(wanted.requests);
    expect(pod.status!.containerStatuses!.map((c) => c.restartCount)).toEqual([0, 0]);
    const podPath = cgroups.podCgroupPath(pod);
    const containerId = (name: string) =>
      pod.status!.containerStatuses!.find((c) => c.name === name)!.containerID!.replace('containerd://', '');
    const limited = {
      'cpu.cfs_quota_us': 80_000,
      'cpu.cfs_period_us': 100_000,
      'memory.limit_in_bytes': 256 * 1024 ** 2,
    };
    expect({
      pod: await cgroupFiles(podPath),
      a: await cgroupFiles(`${podPath}/${containerId('a')}`),
      b: await cgroupFiles(`${podPath}/${containerId('b')}`),
    }).toEqual({
      // 300m requested → 307 shares; a asks for nothing, so its shares follow its (the pod's) cpu limit.
      pod: { 'cpu.shares': 307, ...limited },
      a: { 'cpu.shares': 819, ...limited },
      b: { 'cpu.shares': 51, ...limited },
    });
    expect(events.filter((e) => e.reason.startsWith('Resize')).map((e) => `${e.type} ${e.reason}`)).toEqual([
      'Normal ResizeStarted',
      'Normal ResizeCompleted',
    ]);
  });
});
