/**
 * Fixture pod `pod-resources` (pod-level spec.resources: 200m/64Mi requests, 400m/128Mi limits;
 * container a without resources, b with 50m/16Mi requests) on a real containerd with
 * cgroupsPerQOS in a private cgroupRoot (cgroup v1 here, as the recording), through the in-process
 * API server, against what upstream v1.36.3 made of it
 * (../shared/fidelity/pod-status-v1.36/pod-resources.cgroupsPerQOS.upstream.yaml): the pod and
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

const fidelity = new URL('../../../../../shared/fidelity/', import.meta.url);
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
      nodeAllocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      recordEvent: (pod, type, reason, message, fieldPath) => {
        if (pod.metadata.name === 'pod-resources') events.push({ fieldPath, type, reason, message });
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
});
