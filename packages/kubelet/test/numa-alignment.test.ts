import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SampleDevicePlugin } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { defaultKubeletConfiguration } from '../src/config/kubelet-configuration';
import type { CpuManager } from '../src/cpumanager/cpu-manager';
import { discoverCpuTopology } from '../src/cpumanager/cpu-topology';
import { DeviceManager } from '../src/devicemanager/device-manager';
import type { MemoryManager } from '../src/memorymanager/memory-manager';
import { memoryManagerFromConfig } from '../src/memorymanager/memory-manager-config';
import {
  cpuManagerFromConfig,
  startResourceManagers,
  topologyManagerFromConfig,
  withReservedSystemCpus,
} from '../src/resource-managers';
import type { TopologyManager } from '../src/topologymanager/topology-manager';
import { waitFor } from './helpers/wait-for';

// A GPU node's alignment: a device plugin, the static CPU manager and the Static memory manager as
// the topology manager's hint providers (upstream's order: device, CPU, memory) under
// single-numa-node, on a fake machine of two NUMA nodes of 4 CPUs and 16 GiB each. A pod asking
// for a device, CPUs and memory gets all three from one node; when no node can hold all three the
// pod is refused with TopologyAffinityError and nothing is allocated.

const Gi = 2 ** 30;
let dir: string;
let devices: DeviceManager;
let plugin: SampleDevicePlugin;
let cpus: CpuManager;
let memory: MemoryManager;
let topology: TopologyManager;
let active: Pod[];

/** A /sys of 8 CPUs, one core each: node 0 holds 0-3, node 1 holds 4-7. */
async function twoNodeSysfs(): Promise<string> {
  const root = join(dir, 'sys');
  await mkdir(join(root, 'devices/system/cpu'), { recursive: true });
  await writeFile(join(root, 'devices/system/cpu/online'), '0-7\n');
  for (let cpu = 0; cpu < 8; cpu++) {
    const t = join(root, `devices/system/cpu/cpu${cpu}/topology`);
    await mkdir(t, { recursive: true });
    await writeFile(join(t, 'physical_package_id'), `${cpu < 4 ? 0 : 1}\n`);
    await writeFile(join(t, 'core_id'), `${cpu % 4}\n`);
  }
  for (const [node, list] of [
    [0, '0-3'],
    [1, '4-7'],
  ] as const) {
    await mkdir(join(root, `devices/system/node/node${node}`), { recursive: true });
    await writeFile(join(root, `devices/system/node/node${node}/cpulist`), `${list}\n`);
  }
  return root;
}

function gpuPod(name: string, cpu: string, mem: string): Pod {
  const list = { cpu, memory: mem, 'example.com/gpu': '1' };
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: list, limits: list } }] },
  } as Pod;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-numa-align-${process.pid}-`));
  active = [];
  const cpuTopology = discoverCpuTopology(await twoNodeSysfs());
  const config = withReservedSystemCpus(
    {
      ...defaultKubeletConfiguration(),
      cpuManagerPolicy: 'static',
      reservedSystemCPUs: '0',
      memoryManagerPolicy: 'Static',
      topologyManagerPolicy: 'single-numa-node',
      evictionHard: { 'memory.available': '100Mi' },
      reservedMemory: [{ numaNode: 0, limits: { memory: '100Mi' } }],
    },
    () => cpuTopology,
  );
  const rootDir = join(dir, 'root');
  await mkdir(rootDir, { recursive: true });
  topology = topologyManagerFromConfig(config, () => [
    { id: 0, distances: [10, 20] },
    { id: 1, distances: [20, 10] },
  ]);
  devices = new DeviceManager({ pluginDir: join(dir, 'device-plugins'), grpc, numaNodes: [0, 1] });
  topology.addHintProvider(devices);
  cpus = cpuManagerFromConfig(config, rootDir, cpuTopology);
  topology.addHintProvider(cpus);
  memory = memoryManagerFromConfig(config, rootDir, {
    numaMemory: () => [0, 1].map((id) => ({ id, memoryBytes: 16 * Gi, hugePages: [] })),
    memoryCapacityBytes: () => 32 * Gi,
  });
  topology.addHintProvider(memory);
  await devices.start(() => active);
  startResourceManagers(
    cpus,
    { getPods: () => active, getPodStatus: () => undefined, runtimeStatus: () => undefined },
    {},
    { rootDir, memoryManager: memory },
  );
  plugin = new SampleDevicePlugin({
    pluginDir: join(dir, 'device-plugins'),
    deviceDir: join(dir, 'devices'),
    resourceName: 'example.com/gpu',
    devices: [
      { id: 'GPU-0', health: 'Healthy', numaNode: 0 },
      { id: 'GPU-1', health: 'Healthy', numaNode: 1 },
    ],
  });
  await plugin.start();
  await waitFor('GPUs', () => devices.getCapacity().allocatable['example.com/gpu'] === '2', 10_000);
});

afterEach(async () => {
  plugin?.stop();
  devices?.stop();
  cpus?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function admit(pod: Pod) {
  const result = topology.admit({ pod, otherPods: active });
  if (result.admit) {
    active.push(pod);
    await devices.admissionOutcome(pod.metadata.uid ?? '');
  }
  return result;
}

/** The NUMA nodes of the container's GPU, exclusive CPUs and memory. */
function placement(uid: string) {
  return {
    gpu: devices.containerDevices(uid, 'c').flatMap((d) => d.numaNodes),
    cpus: cpus
      .exclusiveCpus(uid, 'c')
      .list()
      .map((cpu) => (cpu < 4 ? 0 : 1)),
    memory: memory.numaNodes(uid, 'c'),
  };
}

describe('NUMA alignment of devices, CPUs and memory under single-numa-node', () => {
  it('gives each pod its GPU, CPUs and memory from one node, and refuses a pod no single node can hold', async () => {
    expect(await admit(gpuPod('first', '2', '4Gi'))).toEqual({ admit: true });
    expect(placement('uid-first')).toEqual({ gpu: [0], cpus: [0, 0], memory: [0] });
    // Node 0's GPU is taken: the next pod's CPUs and memory follow the GPU to node 1.
    expect(await admit(gpuPod('second', '3', '8Gi'))).toEqual({ admit: true });
    expect(placement('uid-second')).toEqual({ gpu: [1], cpus: [1, 1, 1], memory: [1] });
    // No GPU is left on either node: refused, nothing allocated.
    expect(await admit(gpuPod('third', '1', '1Gi'))).toEqual({
      admit: false,
      reason: 'TopologyAffinityError',
      message: 'Resources cannot be allocated with Topology locality',
    });
    expect(placement('uid-third')).toEqual({ gpu: [], cpus: [], memory: [] });
    expect(plugin.allocations.map((ids) => ids.join())).toEqual(['GPU-0', 'GPU-1']);
  });

  it('follows the memory: a GPU pod goes where memory is left, and one whose GPU node has too little is refused', async () => {
    // A pod without a GPU takes 14 GiB of node 0's 16.
    const big = {
      metadata: { name: 'big', namespace: 'default', uid: 'uid-big' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            resources: { requests: { cpu: '1', memory: '14Gi' }, limits: { cpu: '1', memory: '14Gi' } },
          },
        ],
      },
    } as Pod;
    expect(await admit(big)).toEqual({ admit: true });
    expect(memory.numaNodes('uid-big', 'c')).toEqual([0]);
    // Node 0 has a free GPU but not 4 GiB: the pod's GPU, CPUs and memory all come from node 1.
    expect(await admit(gpuPod('first', '1', '4Gi'))).toEqual({ admit: true });
    expect(placement('uid-first')).toEqual({ gpu: [1], cpus: [1], memory: [1] });
    // Only node 0's GPU is left, and node 0 still has too little memory.
    expect(await admit(gpuPod('second', '1', '4Gi'))).toMatchObject({
      admit: false,
      reason: 'TopologyAffinityError',
    });
    expect(plugin.allocations.map((ids) => ids.join())).toEqual(['GPU-1']);
  });
});
