import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { podRequests } from '../src/api/pod-requests';
import type { Container, Pod } from '../src/api/pod-types';
import { CgroupV1Filesystem, detectCgroupFilesystem } from '../src/cgroups/cgroup-filesystem';
import {
  memoryHighLivelockKernel,
  podMemoryProtection,
  qosMemoryProtection,
} from '../src/cgroups/memory-qos';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { resourceProperties } from '../src/cgroups/systemd-unit-properties';

const mi = 1024 ** 2;

function pod(uid: string, containers: Container['resources'][], extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: uid, namespace: 'test', uid },
    spec: {
      containers: containers.map((resources, i) => ({ name: `c${i}`, image: 'busybox', resources })),
      ...extra,
    },
  } as Pod;
}

// Upstream qos_container_manager_linux_test.go activeTestPods: a Guaranteed pod (128Mi/128Mi, cpu 1/1),
// a Burstable pod (128Mi/256Mi, cpu 1/2) and a Burstable pod with requests only (256Mi, cpu 2).
const guaranteedPod = pod('12345678', [
  { requests: { memory: '128Mi', cpu: '1' }, limits: { memory: '128Mi', cpu: '1' } },
]);
const burstablePod1 = pod('87654321', [
  { requests: { memory: '128Mi', cpu: '1' }, limits: { memory: '256Mi', cpu: '2' } },
]);
const burstablePod2 = pod('01234567', [{ requests: { memory: '256Mi', cpu: '2' } }]);
const bestEffortPod = pod('99999999', [undefined]);

describe('QoS cgroups (upstream v1.36 setMemoryQoS, TestQoSContainerCgroup)', () => {
  it('TieredReservation: kubepods memory.min = Guaranteed + Burstable requests, burstable memory.low = Burstable requests', () => {
    expect(qosMemoryProtection([guaranteedPod, burstablePod1, burstablePod2], 'TieredReservation')).toEqual({
      guaranteed: { 'memory.min': String(512 * mi) },
      burstable: { 'memory.low': String(384 * mi) },
    });
  });

  it('writes 0 for BestEffort pods only, a Burstable pod without memory request, and no pods at all', () => {
    const zero = { guaranteed: { 'memory.min': '0' }, burstable: { 'memory.low': '0' } };
    expect(qosMemoryProtection([bestEffortPod], 'TieredReservation')).toEqual(zero);
    expect(qosMemoryProtection([pod('88888888', [{ requests: { cpu: '1' } }])], 'TieredReservation')).toEqual(
      zero,
    );
    expect(qosMemoryProtection([], 'TieredReservation')).toEqual(zero);
  });

  it('counts a pod-level memory request in place of its containers (Guaranteed 128Mi + Burstable pod-level 512Mi)', () => {
    const podLevel = pod(
      '87654321',
      [{ requests: { memory: '128Mi', cpu: '1' }, limits: { memory: '256Mi', cpu: '2' } }],
      { resources: { requests: { memory: '512Mi' } } },
    );
    expect(qosMemoryProtection([guaranteedPod, podLevel], 'TieredReservation')).toEqual({
      guaranteed: { 'memory.min': String(640 * mi) },
      burstable: { 'memory.low': String(512 * mi) },
    });
  });

  it('None (TestQoSContainerCgroupWithMemoryReservationPolicyNone): both reset to 0', () => {
    expect(qosMemoryProtection([guaranteedPod, burstablePod1, burstablePod2], 'None')).toEqual({
      guaranteed: { 'memory.min': '0' },
      burstable: { 'memory.low': '0' },
    });
  });
});

describe('pod cgroup (upstream v1.36 ResourceConfigForPod with MemoryQoS)', () => {
  it("TieredReservation: a Guaranteed pod's memory.min is its request (100Mi: 104857600)", () => {
    const guaranteed = pod('g', [
      { requests: { memory: '100Mi', cpu: '100m' }, limits: { memory: '100Mi', cpu: '100m' } },
    ]);
    expect(podMemoryProtection(guaranteed, 'TieredReservation')).toEqual({ 'memory.min': '104857600' });
  });

  it("TieredReservation: a Burstable pod's memory.low is its request; BestEffort and no-request pods get nothing", () => {
    expect(podMemoryProtection(burstablePod1, 'TieredReservation')).toEqual({
      'memory.low': String(128 * mi),
    });
    expect(podMemoryProtection(bestEffortPod, 'TieredReservation')).toEqual({});
    expect(podMemoryProtection(pod('c', [{ requests: { cpu: '1' } }]), 'TieredReservation')).toEqual({});
  });

  it('None: nothing on the pod cgroup', () => {
    expect(podMemoryProtection(guaranteedPod, 'None')).toEqual({});
  });

  it('sums the pod request as upstream PodRequests: sidecars add up, init containers at their peak, plus overhead', () => {
    const withInit = pod('i', [{ requests: { memory: '100Mi' } }], {
      initContainers: [
        { name: 'sidecar', image: 'b', restartPolicy: 'Always', resources: { requests: { memory: '50Mi' } } },
        { name: 'init', image: 'b', resources: { requests: { memory: '400Mi' } } },
      ],
      overhead: { memory: '10Mi' },
    });
    // max(100 + 50, 50 + 400) + 10
    expect(podRequests(withInit).memoryBytes).toBe(460 * mi);
  });
});

describe('PodCgroupManager with MemoryQoS', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `na-memqos-${process.pid}-`));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('cgroup v2: writes memory.min / memory.low on the pod and QoS cgroups', async () => {
    await writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids');
    const fs = await detectCgroupFilesystem(root);
    const manager = new PodCgroupManager({
      fs,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/',
      memoryQoS: { reservationPolicy: 'TieredReservation' },
    });
    await manager.start();
    await manager.ensurePod(guaranteedPod);
    await manager.ensurePod(burstablePod1);
    await manager.updateQOSCgroups([guaranteedPod, burstablePod1, burstablePod2]);
    expect(await fs.read('/kubepods/pod12345678', 'memory.min')).toBe(String(128 * mi));
    expect(await fs.read('/kubepods/burstable/pod87654321', 'memory.low')).toBe(String(128 * mi));
    expect(await fs.read('/kubepods', 'memory.min')).toBe(String(512 * mi));
    expect(await fs.read('/kubepods/burstable', 'memory.low')).toBe(String(384 * mi));
  });

  it('cgroup v1: the gate changes nothing (no memory.min / memory.low written)', async () => {
    for (const controller of ['cpu', 'memory', 'pids']) await mkdir(join(root, controller));
    const fs = new CgroupV1Filesystem(root);
    const manager = new PodCgroupManager({
      fs,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/',
      memoryQoS: { reservationPolicy: 'TieredReservation' },
    });
    await manager.start();
    await manager.ensurePod(guaranteedPod);
    await manager.updateQOSCgroups([guaranteedPod]);
    await expect(readFile(join(root, 'memory', 'kubepods', 'memory.min'), 'utf8')).rejects.toThrow();
    await expect(
      readFile(join(root, 'memory', 'kubepods', 'pod12345678', 'memory.min'), 'utf8'),
    ).rejects.toThrow();
    // The manager did run: the pod's limit is there, only MemoryQoS's files are missing.
    expect(await fs.read('/kubepods/pod12345678', 'memory.limit_in_bytes')).toBe(String(128 * mi));
  });

  it("systemd driver on v2: memory.min / memory.low also as the slices' MemoryMin / MemoryLow properties", () => {
    const properties = resourceProperties({ unified: { 'memory.min': '1024', 'memory.low': 'max' } }, 2, 252);
    expect(properties.map((p) => [p.name, p.value.value])).toEqual([
      ['MemoryMin', 1024n],
      ['MemoryLow', 2n ** 64n - 1n],
    ]);
    expect(resourceProperties({ unified: { 'memory.min': '1024' } }, 1, 252)).toEqual([]);
  });
});

describe('kernel check (upstream v1.36 warns below 5.9)', () => {
  it('names kernels before 5.9 only', () => {
    expect(memoryHighLivelockKernel('5.8.18-100')).toBe(true);
    expect(memoryHighLivelockKernel('4.19.0')).toBe(true);
    expect(memoryHighLivelockKernel('5.9.0')).toBe(false);
    expect(memoryHighLivelockKernel('6.18.1+deb14-amd64')).toBe(false);
  });
});
