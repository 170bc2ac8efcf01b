/**
 * Pod-level `spec.resources` (PodLevelResources, beta and on in v1.36) in the kubelet: QoS class,
 * pod cgroup, container CRI resources, status.resources / status.allocatedResources and admission,
 * against upstream v1.36.3's recording of fixture pod `pod-resources`
 * (fidelity/pod-status-v1.36/pod-resources.cgroupsPerQOS.upstream.yaml).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { admitPod } from '../src/admission/admit-handler';
import { kubeletAdmitHandlers } from '../src/admission/kubelet-admit-handlers';
import {
  noPodCgroupPodLevelResourcesMessage,
  podLevelResourcesNotSupportedReason,
} from '../src/admission/pod-level-resources-admit';
import { resizeRefusal } from '../src/admission/resize-admission';
import { resourceFitAdmitHandler } from '../src/admission/resource-fit-admit';
import { hasPodLevelResources } from '../src/api/pod-level-resources';
import type { Container, Pod, PodSpec } from '../src/api/pod-types';
import { podQOSClass } from '../src/api/qos-class';
import { CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { podCPURequestMilli, podResourceConfig } from '../src/cgroups/pod-resource-config';
import { containerOOMScoreAdj, linuxContainerResources } from '../src/cri/linux-resources';
import { podRequest, podStatsLookup } from '../src/eviction/pod-usage';
import { rankPodsForEviction } from '../src/eviction/rank-pods';
import type { PodStats } from '../src/stats/summary-types';
import { busybox, type EngineHarness, startEngine } from './helpers/engine';

const fidelity = new URL('../../../fidelity/', import.meta.url);
const fixtureText = (path: string) => readFileSync(new URL(path, fidelity), 'utf8');

/** The fixture pod as the API server stored it (fidelity/pods-v1.36/pods.yaml). */
function fixturePod(): Pod {
  const pods = parseAllDocuments(fixtureText('pods-v1.36/pods.yaml')).flatMap(
    (d) => (d.toJS() as Pod | null) ?? [],
  );
  const pod = structuredClone(pods.find((p) => p.metadata.name === 'pod-resources')!);
  pod.metadata.uid = '00000000-0000-0000-0000-000000000101';
  return pod;
}

/** What upstream v1.36.3 recorded for the pod with cgroupsPerQOS: true. */
const recorded = parse(fixtureText('pod-status-v1.36/pod-resources.cgroupsPerQOS.upstream.yaml')) as {
  pod: Pod;
  cgroupsV1: { values: Record<string, Record<string, number>> };
};
const cgroupValues = recorded.cgroupsV1.values;

function pod(spec: Partial<PodSpec>, containers: Container['resources'][] = [{}]): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'uid-p' },
    spec: {
      containers: containers.map((resources, i) => ({ name: `c${i}`, image: busybox, resources })),
      ...spec,
    },
  };
}

const both = (cpu: string, memory: string) => ({ cpu, memory });

describe('QoS class with pod-level resources (upstream ComputePodQOS)', () => {
  it('the fixture pod is Burstable, as upstream recorded', () => {
    expect(podQOSClass(fixturePod())).toBe(recorded.pod.status!.qosClass);
    expect(recorded.pod.status!.qosClass).toBe('Burstable');
  });

  it('pod-level requests equal to limits for cpu and memory: Guaranteed, whatever the containers ask', () => {
    const level = { requests: both('1', '1Gi'), limits: both('1', '1Gi') };
    // Containers without resources would make the pod BestEffort, one with a lower limit Burstable.
    expect(podQOSClass(pod({ resources: level }))).toBe('Guaranteed');
    expect(podQOSClass(pod({ resources: level }, [{}, { requests: { cpu: '100m' } }]))).toBe('Guaranteed');
    // Limits only (a static pod the API server never defaulted): Guaranteed too.
    expect(podQOSClass(pod({ resources: { limits: both('1', '1Gi') } }))).toBe('Guaranteed');
  });

  it('a pod-level limit missing or above its request: Burstable, even over Guaranteed containers', () => {
    const g = { requests: both('1', '1Gi'), limits: both('1', '1Gi') };
    expect(podQOSClass(pod({}, [g]))).toBe('Guaranteed');
    expect(podQOSClass(pod({ resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } }, [g]))).toBe(
      'Burstable',
    );
    expect(
      podQOSClass(pod({ resources: { requests: both('500m', '1Gi'), limits: both('1', '1Gi') } }, [g])),
    ).toBe('Burstable');
  });

  it('zero pod-level values ask for nothing: BestEffort', () => {
    expect(podQOSClass(pod({ resources: { requests: { cpu: '0', memory: '0' } } }))).toBe('BestEffort');
  });

  it('only resources pod-level resources do not support: the containers decide', () => {
    const unsupported = pod({ resources: { requests: { 'ephemeral-storage': '1Gi' } } }, [
      { requests: both('1', '1Gi'), limits: both('1', '1Gi') },
    ]);
    expect(hasPodLevelResources(unsupported)).toBe(false);
    expect(podQOSClass(unsupported)).toBe('Guaranteed');
    expect(hasPodLevelResources(pod({ resources: { limits: { 'hugepages-2Mi': '4Mi' } } }))).toBe(true);
  });
});

describe('pod cgroup with pod-level resources (upstream ResourceConfigForPod)', () => {
  it('the fixture pod: cpu.shares 204, quota 40000/100000, memory limit 134217728, as recorded', () => {
    const config = podResourceConfig(fixturePod());
    const podCgroup = cgroupValues['pod cgroup']!;
    expect(config).toEqual({
      cpuShares: podCgroup['cpu.shares'],
      cpuQuotaUs: podCgroup['cpu.cfs_quota_us'],
      cpuPeriodUs: podCgroup['cpu.cfs_period_us'],
      memoryLimitBytes: podCgroup['memory.limit_in_bytes'],
    });
    // The burstable tier's shares count the pod-level request, not the containers' 50m.
    expect(podCPURequestMilli(fixturePod())).toBe(200);
  });

  it('a resource without a pod-level limit keeps the containers’ sum, declared only when every container limits it', () => {
    const limited = { requests: both('100m', '32Mi'), limits: both('200m', '64Mi') };
    const config = podResourceConfig(pod({ resources: { limits: { cpu: '1' } } }, [limited, limited]));
    expect(config).toEqual({
      cpuShares: 204,
      cpuPeriodUs: 100_000,
      cpuQuotaUs: 100_000,
      memoryLimitBytes: 134217728,
    });
    const unlimited = podResourceConfig(pod({ resources: { limits: { cpu: '1' } } }, [limited, {}]));
    expect(unlimited.memoryLimitBytes).toBeUndefined();
    expect(unlimited.cpuQuotaUs).toBe(100_000);
  });

  it('a Guaranteed pod by its pod-level resources sits directly under kubepods', () => {
    const cgroups = new PodCgroupManager({
      fs: new CgroupV1Filesystem('/nonexistent'),
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/',
    });
    const g = pod({ resources: { requests: both('1', '1Gi'), limits: both('1', '1Gi') } });
    expect(cgroups.podCgroupPath(g)).toBe('/kubepods/poduid-p');
    expect(cgroups.podCgroupPath(fixturePod())).toBe(
      '/kubepods/burstable/pod00000000-0000-0000-0000-000000000101',
    );
  });
});

describe('container resources under pod-level limits (upstream generateLinuxContainerResources)', () => {
  const options = { memoryCapacity: 4 * 1024 ** 3 };
  it('fixture container a (no resources): the pod’s limits, shares from the cpu limit (409), as recorded', () => {
    const p = fixturePod();
    const a = linuxContainerResources(p, p.spec.containers[0]!, options);
    const want = cgroupValues['container a']!;
    expect({
      cpuShares: a.cpuShares,
      cpuQuota: a.cpuQuota,
      cpuPeriod: a.cpuPeriod,
      memoryLimitInBytes: a.memoryLimitInBytes,
    }).toEqual({
      cpuShares: want['cpu.shares'],
      cpuQuota: want['cpu.cfs_quota_us'],
      cpuPeriod: want['cpu.cfs_period_us'],
      memoryLimitInBytes: want['memory.limit_in_bytes'],
    });
  });

  it('fixture container b (requests only): its own 50m shares (51), the pod’s quota and memory limit', () => {
    const p = fixturePod();
    const b = linuxContainerResources(p, p.spec.containers[1]!, options);
    const want = cgroupValues['container b']!;
    expect([b.cpuShares, b.cpuQuota, b.cpuPeriod, b.memoryLimitInBytes]).toEqual([
      want['cpu.shares'],
      want['cpu.cfs_quota_us'],
      want['cpu.cfs_period_us'],
      want['memory.limit_in_bytes'],
    ]);
  });

  it('a container’s own limits win over the pod’s; without pod-level resources nothing changes', () => {
    const own = { requests: both('100m', '32Mi'), limits: both('200m', '64Mi') };
    const p = pod({ resources: { limits: both('1', '1Gi') } }, [own]);
    const r = linuxContainerResources(p, p.spec.containers[0]!, options);
    expect([r.cpuShares, r.cpuQuota, r.memoryLimitInBytes]).toEqual([102, 20_000, 64 * 1024 ** 2]);
    const plain = pod({}, [{}]);
    const none = linuxContainerResources(plain, plain.spec.containers[0]!, options);
    expect([none.cpuShares, none.cpuQuota, none.cpuPeriod, none.memoryLimitInBytes]).toEqual([
      2, 0, 100_000, 0,
    ]);
  });

  it('OOM score: the pod-level memory request beyond the containers’ own is shared out evenly (Go integer arithmetic)', () => {
    const p = fixturePod();
    // 64Mi − 16Mi = 48Mi over 2 containers: a counts 24Mi, b 16Mi + 24Mi, of 4Gi.
    // 1000 − ⌊1000·24Mi/4Gi⌋ = 1000 − 5; 1000 − ⌊1000·40Mi/4Gi⌋ = 1000 − 9.
    expect(containerOOMScoreAdj(p, p.spec.containers[0]!, options.memoryCapacity)).toBe(995);
    expect(containerOOMScoreAdj(p, p.spec.containers[1]!, options.memoryCapacity)).toBe(991);
  });
});

describe('admission with pod-level requests', () => {
  const allocatable = { cpu: '1', memory: '1Gi', pods: '110' };
  const other = pod({}, [{ requests: both('850m', '900Mi') }]);

  it('cpu/memory fit counts the pod-level request (200m), not the containers’ 50m', () => {
    const fit = resourceFitAdmitHandler(() => allocatable);
    expect(fit.admit({ pod: fixturePod(), otherPods: [other] })).toEqual({
      admit: false,
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 200, used: 850, capacity: 1000",
    });
    const smallCpu = pod({}, [{ requests: both('700m', '990Mi') }]);
    expect(fit.admit({ pod: fixturePod(), otherPods: [smallCpu] })).toEqual({
      admit: false,
      reason: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${64 * 1024 ** 2}, used: ${990 * 1024 ** 2}, capacity: ${1024 ** 3}`,
    });
    expect(fit.admit({ pod: fixturePod(), otherPods: [] })).toEqual({ admit: true });
    // A critical pod (static, mirror, system priority) is let in: upstream would preempt for it.
    const critical = resourceFitAdmitHandler(
      () => allocatable,
      (p) => p.metadata.name === 'pod-resources',
    );
    expect(critical.admit({ pod: fixturePod(), otherPods: [other] })).toEqual({ admit: true });
    expect(resourceFitAdmitHandler(() => undefined).admit({ pod: fixturePod(), otherPods: [other] })).toEqual(
      {
        admit: true,
      },
    );
  });

  it('without pod cgroups (cgroupsPerQOS: false) a pod-level pod is refused naming the setting; others pass', () => {
    const handlers = kubeletAdmitHandlers({
      maxPods: 110,
      allowedUnsafeSysctls: [],
      eviction: () => ({ admit: true }),
      runtimeFeatures: () => undefined,
      appArmorHostError: () => undefined,
      podCgroups: false,
    });
    const verdict = admitPod(handlers, { pod: fixturePod(), otherPods: [] });
    expect(verdict).toEqual({
      admit: false,
      reason: podLevelResourcesNotSupportedReason,
      message: noPodCgroupPodLevelResourcesMessage,
    });
    expect(noPodCgroupPodLevelResourcesMessage).toContain('cgroupsPerQOS: false');
    expect(admitPod(handlers, { pod: pod({}, [{ requests: both('1', '1Gi') }]), otherPods: [] })).toEqual({
      admit: true,
    });
  });

  it('a resize is checked against the pod-level request too', () => {
    const refusal = resizeRefusal({
      desired: fixturePod(),
      others: [other],
      allocatable,
      staticPod: false,
      podCgroups: true,
    });
    expect(refusal?.message).toBe(
      "Node didn't have enough resource: cpu, requested: 200, used: 850, capacity: 1000",
    );
  });
});

describe('eviction ranking with pod-level requests (upstream GetResourceRequestQuantity)', () => {
  it('memory counts the pod-level request, ephemeral-storage nothing; the containers’ own are skipped', () => {
    const p = fixturePod();
    expect(podRequest(p, 'memory')).toBe(64 * 1024 ** 2);
    const withStorage = pod({ resources: { requests: { cpu: '1' } } }, [
      { requests: { memory: '1Gi', 'ephemeral-storage': '1Gi' } },
    ]);
    expect(podRequest(withStorage, 'memory')).toBe(0);
    expect(podRequest(withStorage, 'ephemeral-storage')).toBe(0);
  });

  it('a pod within its pod-level memory request ranks after one over its container requests', () => {
    const level = fixturePod();
    const containerLevel = pod({}, [{ requests: { memory: '64Mi' } }]);
    containerLevel.metadata = { name: 'c', namespace: 'default', uid: 'uid-c' };
    const usage = (p: Pod, bytes: number) =>
      ({
        podRef: { name: p.metadata.name, namespace: 'default', uid: p.metadata.uid },
        containers: [{ name: 'x', memory: { workingSetBytes: bytes } }],
      }) as unknown as PodStats;
    // 40Mi: within the pod-level 64Mi (the containers alone ask for 16Mi); 70Mi is over 64Mi.
    const lookup = podStatsLookup([usage(level, 40 * 1024 ** 2), usage(containerLevel, 70 * 1024 ** 2)]);
    expect(
      rankPodsForEviction([level, containerLevel], 'memory', lookup).map((p) => p.metadata.name),
    ).toEqual(['c', 'pod-resources']);
  });
});

describe('the fixture pod through the kubelet engine (fake CRI)', { timeout: 60_000 }, () => {
  let harness: EngineHarness | undefined;
  let tree: string | undefined;
  const events: string[] = [];
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    if (tree) await rm(tree, { recursive: true, force: true });
    tree = undefined;
    events.length = 0;
  });

  function runnable(): Pod {
    const p = fixturePod();
    for (const c of p.spec.containers) {
      c.image = busybox;
      c.command = ['sh', '-c', 'sleep 3600'];
      delete c.volumeMounts;
    }
    delete p.spec.volumes;
    return p;
  }

  async function engine(withCgroups: boolean): Promise<{ h: EngineHarness; cgroups?: PodCgroupManager }> {
    tree = await mkdtemp(join(tmpdir(), `na-podres-${process.pid}-`));
    for (const c of ['cpu', 'memory', 'pids']) await mkdir(join(tree, c), { recursive: true });
    const cgroups = withCgroups
      ? new PodCgroupManager({ fs: new CgroupV1Filesystem(tree), cgroupDriver: 'cgroupfs', cgroupRoot: '/' })
      : undefined;
    harness = await startEngine({
      cgroups,
      node: {
        // The node the fixture pod was bound to when recorded: admission checks spec.nodeName.
        name: 'n-stored',
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      },
      api: {
        recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`),
      },
    });
    return { h: harness, cgroups };
  }

  it('pod cgroup as recorded; status.resources, allocatedResources and qosClass as upstream wrote them', async () => {
    const { h, cgroups } = await engine(true);
    const p = runnable();
    h.kubelet.addPod(p);
    await h.settleThroughRelists();
    const podPath = cgroups!.podCgroupPath(p);
    const read = async (controller: string, file: string) =>
      Number(await readFile(join(tree!, controller, podPath, file), 'utf8'));
    const want = cgroupValues['pod cgroup']!;
    expect({
      'cpu.shares': await read('cpu', 'cpu.shares'),
      'cpu.cfs_quota_us': await read('cpu', 'cpu.cfs_quota_us'),
      'cpu.cfs_period_us': await read('cpu', 'cpu.cfs_period_us'),
      'memory.limit_in_bytes': await read('memory', 'memory.limit_in_bytes'),
    }).toEqual(want);
    const status = h.writer.last(p.metadata.uid!)!;
    const upstream = recorded.pod.status!;
    expect(status.phase).toBe('Running');
    expect(status.qosClass).toBe(upstream.qosClass);
    expect(status.resources).toEqual(upstream.resources);
    expect(status.allocatedResources).toEqual(upstream.allocatedResources);
    const containers = (s: typeof status) =>
      s.containerStatuses!.map(({ name, resources, allocatedResources }) => ({
        name,
        resources,
        allocatedResources,
      }));
    expect(containers(status)).toEqual(containers(upstream));
  });

  it('a pod-level resize (InPlacePodLevelResourcesVerticalScaling): pod cgroup, status.resources and resize events follow', async () => {
    const { h, cgroups } = await engine(true);
    const p = runnable();
    p.metadata.generation = 1;
    h.kubelet.addPod(p);
    await h.settleThroughRelists();
    const podPath = cgroups!.podCgroupPath(p);
    await writeFile(join(tree!, 'memory', podPath, 'memory.usage_in_bytes'), '4096');
    const resized = structuredClone(p);
    resized.metadata.generation = 2;
    resized.spec.resources = {
      requests: { cpu: '300m', memory: '64Mi' },
      limits: { cpu: '800m', memory: '256Mi' },
    };
    h.kubelet.updatePod(resized);
    await h.settleThroughRelists();
    const read = async (controller: string, file: string) =>
      readFile(join(tree!, controller, podPath, file), 'utf8');
    expect(await read('cpu', 'cpu.shares')).toBe('307');
    expect(await read('cpu', 'cpu.cfs_quota_us')).toBe('80000');
    expect(await read('memory', 'memory.limit_in_bytes')).toBe(String(256 * 1024 ** 2));
    const status = h.writer.last(p.metadata.uid!)!;
    expect(status.resources).toEqual(resized.spec.resources);
    expect(status.allocatedResources).toEqual({ cpu: '300m', memory: '64Mi' });
    expect(status.observedGeneration).toBe(2);
    expect(status.conditions!.filter((c) => c.type.startsWith('PodResize'))).toEqual([]);
    expect(events.filter((e) => e.includes('Resize')).map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual(
      ['Normal ResizeStarted', 'Normal ResizeCompleted'],
    );
    // A pod-level resize beyond the node's allocatable is Infeasible and changes nothing.
    const tooBig = structuredClone(resized);
    tooBig.metadata.generation = 3;
    tooBig.spec.resources = { requests: { cpu: '3', memory: '64Mi' }, limits: { cpu: '3', memory: '256Mi' } };
    h.kubelet.updatePod(tooBig);
    await h.settleThroughRelists();
    const refused = h.writer.last(p.metadata.uid!)!;
    expect(refused.conditions!.find((c) => c.type === 'PodResizePending')).toMatchObject({
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 3000, capacity: 2000",
    });
    expect(refused.resources).toEqual(resized.spec.resources);
    expect(await read('cpu', 'cpu.cfs_quota_us')).toBe('80000');
  });

  it('a pod-level quantity that does not parse (an unvalidated static pod) is refused at admission, never a crash', async () => {
    const { h } = await engine(true);
    const bad = runnable();
    bad.spec.resources = { requests: { cpu: 'lots' } };
    h.kubelet.addPod(bad);
    await h.settleThroughRelists();
    const status = h.writer.last(bad.metadata.uid!)!;
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('UnexpectedAdmissionError');
    expect(status.message).toContain('spec.resources.requests.cpu');
    expect(status.message).toContain('lots');
  });

  it('status.allocatedResources prints a decimal pod-level memory request as given (Go keeps the format)', async () => {
    const { h } = await engine(true);
    const p = runnable();
    p.spec.resources = { requests: { cpu: '0.2', memory: '100M' }, limits: { cpu: '400m', memory: '128Mi' } };
    h.kubelet.addPod(p);
    await h.settleThroughRelists();
    const status = h.writer.last(p.metadata.uid!)!;
    expect(status.allocatedResources).toEqual({ cpu: '200m', memory: '100M' });
    expect(status.resources?.requests).toEqual({ cpu: '200m', memory: '100M' });
  });

  it('cgroupsPerQOS: false: the pod fails at admission naming the setting, the kubelet keeps running others', async () => {
    const { h } = await engine(false);
    const p = runnable();
    h.kubelet.addPod(p);
    const plain = runnable();
    plain.metadata = { ...plain.metadata, name: 'plain', uid: 'uid-plain' };
    delete plain.spec.resources;
    h.kubelet.addPod(plain);
    await h.settleThroughRelists();
    const status = h.writer.last(p.metadata.uid!)!;
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('PodLevelResourcesNotSupported');
    expect(status.message).toBe(`Pod was rejected: ${noPodCgroupPodLevelResourcesMessage}`);
    expect(events).toContain(`Warning PodLevelResourcesNotSupported ${noPodCgroupPodLevelResourcesMessage}`);
    expect(h.writer.last('uid-plain')?.phase).toBe('Running');
  });
});
