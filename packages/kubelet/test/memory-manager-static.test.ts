import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { defaultKubeletConfiguration } from '../src/config/kubelet-configuration';
import type { MemoryManager } from '../src/memorymanager/memory-manager';
import { memoryManagerFromConfig } from '../src/memorymanager/memory-manager-config';
import { withContainerMemoryNodes } from '../src/memorymanager/memory-nodes-runtime';
import { type NumaMemory, readNumaMemory } from '../src/memorymanager/numa-memory';
import { NumaMask } from '../src/topologymanager/numa-mask';
import type { TopologyHint } from '../src/topologymanager/topology-hint';
import { TopologyManager } from '../src/topologymanager/topology-manager';

const Gi = 2 ** 30;
const Mi = 2 ** 20;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-memman-${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two NUMA nodes of 16 GiB, each with four 1 GiB huge pages and no 2 MiB ones. */
const twoNodes: NumaMemory[] = [0, 1].map((id) => ({
  id,
  memoryBytes: 16 * Gi,
  hugePages: [
    { pageSizeBytes: 2 * Mi, count: 0 },
    { pageSizeBytes: Gi, count: 4 },
  ],
}));

/** The Static policy over `twoNodes`, 1 GiB kept for the system on each node (= kubeReserved + eviction). */
function staticConfig() {
  return {
    ...defaultKubeletConfiguration(),
    memoryManagerPolicy: 'Static',
    kubeReserved: { memory: '1948Mi' },
    evictionHard: { 'memory.available': '100Mi' },
    reservedMemory: [
      { numaNode: 0, limits: { memory: '1Gi' } },
      { numaNode: 1, limits: { memory: '1Gi' } },
    ],
  };
}

/** A started Static manager whose checkpoint is in `root` (default the test's directory). */
function staticManager(pods: () => Pod[] = () => [], root = dir): MemoryManager {
  mkdirSync(root, { recursive: true });
  const manager = memoryManagerFromConfig(staticConfig(), root, {
    numaMemory: () => twoNodes,
    memoryCapacityBytes: () => 32 * Gi,
  });
  manager.start({ activePods: pods });
  return manager;
}

function guaranteed(
  uid: string,
  containers: { name: string; memory: string; hugepages?: string; init?: boolean; sidecar?: boolean }[],
): Pod {
  const make = (c: (typeof containers)[number]): Container => {
    const list: Record<string, string> = { cpu: '1', memory: c.memory };
    if (c.hugepages) list['hugepages-1Gi'] = c.hugepages;
    return {
      name: c.name,
      ...(c.sidecar ? { restartPolicy: 'Always' } : {}),
      resources: { requests: list, limits: list },
    };
  };
  return {
    metadata: { uid, name: uid, namespace: 'default' },
    spec: {
      initContainers: containers.filter((c) => c.init || c.sidecar).map(make),
      containers: containers.filter((c) => !c.init && !c.sidecar).map(make),
    },
  };
}

const hint = (nodes: number[] | null, preferred = true) => ({
  affinity: nodes === null ? null : new NumaMask(nodes),
  preferred,
});
const hintNodes = (hints: readonly TopologyHint[] | undefined) =>
  (hints ?? []).map((h) => `${h.affinity?.toString()}${h.preferred ? '*' : ''}`);

describe('memoryManagerFromConfig: upstream NewManager', () => {
  it('refuses a reservedMemory whose total differs from Node allocatable, in upstream words', () => {
    const config = { ...staticConfig(), kubeReserved: {} };
    expect(() =>
      memoryManagerFromConfig(config, dir, {
        numaMemory: () => twoNodes,
        memoryCapacityBytes: () => 32 * Gi,
      }),
    ).toThrow(
      'the total amount "2Gi" of type "memory" is not equal to the value "100Mi" determined by Node Allocatable feature',
    );
  });

  it('refuses a NUMA node the machine does not have, no reservation at all, and policies upstream does not run here', () => {
    const machine = { numaMemory: () => twoNodes, memoryCapacityBytes: () => 32 * Gi };
    const missing = { ...staticConfig(), reservedMemory: [{ numaNode: 3, limits: { memory: '2Gi' } }] };
    expect(() => memoryManagerFromConfig(missing, dir, machine)).toThrow(
      'the reserved memory configuration references a NUMA node 3 that does not exist on this machine',
    );
    const none = { ...staticConfig(), kubeReserved: {}, evictionHard: {}, reservedMemory: [] };
    expect(() => memoryManagerFromConfig(none, dir, machine)).toThrow(
      '[memorymanager] you should specify the system reserved memory',
    );
    expect(() =>
      memoryManagerFromConfig({ ...staticConfig(), memoryManagerPolicy: 'BestEffort' }, dir, machine),
    ).toThrow('policy "BestEffort" is not available for platform "linux"');
    expect(() =>
      memoryManagerFromConfig({ ...staticConfig(), memoryManagerPolicy: 'static' }, dir, machine),
    ).toThrow('unknown policy: "static"');
  });

  it('writes the machine state to memory_manager_state at start: huge pages apart, the reservation off memory', async () => {
    staticManager();
    const checkpoint = JSON.parse(await readFile(join(dir, 'memory_manager_state'), 'utf8'));
    expect(checkpoint.policyName).toBe('Static');
    expect(checkpoint.machineState['1']).toEqual({
      numberOfAssignments: 0,
      memoryMap: {
        'hugepages-1Gi': { total: 4 * Gi, systemReserved: 0, allocatable: 4 * Gi, reserved: 0, free: 4 * Gi },
        'hugepages-2Mi': { total: 0, systemReserved: 0, allocatable: 0, reserved: 0, free: 0 },
        memory: { total: 16 * Gi, systemReserved: Gi, allocatable: 11 * Gi, reserved: 0, free: 11 * Gi },
      },
      cells: [1],
    });
  });
});

describe('the Static policy: hints and allocation (upstream policy_static.go)', () => {
  it('gives no hints and pins nothing for a pod that is not Guaranteed', () => {
    const manager = staticManager();
    const burstable: Pod = {
      metadata: { uid: 'b', name: 'b', namespace: 'default' },
      spec: { containers: [{ name: 'c', resources: { requests: { memory: '1Gi' } } }] },
    };
    expect(manager.getTopologyHints(burstable, burstable.spec.containers[0]!)).toBeUndefined();
    manager.allocate(burstable, burstable.spec.containers[0]!, hint(null, false));
    expect(manager.numaNodes('b', 'c')).toEqual([]);
  });

  it('hints each node alone as preferred and both as not; allocates on the chosen node', async () => {
    const manager = staticManager();
    const pod = guaranteed('p1', [{ name: 'c', memory: '2Gi', hugepages: '1Gi' }]);
    const hints = manager.getTopologyHints(pod, pod.spec.containers[0]!)!;
    expect(hintNodes(hints.memory)).toEqual(['[0]*', '[1]*', '[0 1]']);
    expect(hintNodes(hints['hugepages-1Gi'])).toEqual(['[0]*', '[1]*', '[0 1]']);
    manager.allocate(pod, pod.spec.containers[0]!, hint([1]));
    expect(manager.numaNodes('p1', 'c')).toEqual([1]);
    expect(manager.memory('p1', 'c')).toEqual([
      { numaAffinity: [1], type: 'hugepages-1Gi', size: Gi },
      { numaAffinity: [1], type: 'memory', size: 2 * Gi },
    ]);
    const checkpoint = JSON.parse(await readFile(join(dir, 'memory_manager_state'), 'utf8'));
    expect(checkpoint.machineState['1'].numberOfAssignments).toBe(2);
    expect(checkpoint.machineState['1'].memoryMap.memory).toMatchObject({ reserved: 2 * Gi, free: 9 * Gi });
    expect(checkpoint.entries.p1.c).toHaveLength(2);
  });

  it('groups two nodes for a container larger than one, and keeps the group apart from single-node allocations', () => {
    const manager = staticManager();
    const big = guaranteed('big', [{ name: 'c', memory: '14Gi' }]);
    expect(hintNodes(manager.getTopologyHints(big, big.spec.containers[0]!)!.memory)).toEqual(['[0 1]*']);
    manager.allocate(big, big.spec.containers[0]!, hint(null, false));
    expect(manager.numaNodes('big', 'c')).toEqual([0, 1]);
    // Both nodes now belong to the group: a small container may only join the group.
    const small = guaranteed('small', [{ name: 'c', memory: '1Gi' }]);
    expect(hintNodes(manager.getTopologyHints(small, small.spec.containers[0]!)!.memory)).toEqual(['[0 1]']);
    // Node 0 is full: a preferred single node cannot be widened to the group without losing preference.
    expect(() => manager.allocate(small, small.spec.containers[0]!, hint([0]))).toThrow(
      '[memorymanager] failed to find the extended preferred hint',
    );
    manager.allocate(small, small.spec.containers[0]!, hint(null, false));
    expect(manager.numaNodes('small', 'c')).toEqual([0, 1]);
    // The other way round: a group may not take a node that serves a single-node container.
    const other = staticManager(() => [], join(dir, 'other'));
    const alone = guaranteed('alone', [{ name: 'c', memory: '2Gi' }]);
    other.allocate(alone, alone.spec.containers[0]!, hint([0]));
    const wide = guaranteed('wide', [{ name: 'c', memory: '2Gi' }]);
    expect(() => other.allocate(wide, wide.spec.containers[0]!, hint([0, 1]))).toThrow(
      '[memorymanager] preferred hint violates NUMA node allocation',
    );
  });

  it('extends a hint that cannot hold the request to the narrowest group containing it, or fails naming why', () => {
    const manager = staticManager();
    const pod = guaranteed('p', [{ name: 'c', memory: '12Gi' }]);
    manager.allocate(pod, pod.spec.containers[0]!, hint([0], false));
    expect(manager.numaNodes('p', 'c')).toEqual([0, 1]);
    // Node 0 serving a single-node container cannot join a group, and alone it has too little left.
    const fresh = staticManager(() => [], join(dir, 'fresh'));
    const first = guaranteed('a', [{ name: 'c', memory: '8Gi' }]);
    fresh.allocate(first, first.spec.containers[0]!, hint([0]));
    const second = guaranteed('b', [{ name: 'c', memory: '5Gi' }]);
    expect(() => fresh.allocate(second, second.spec.containers[0]!, hint([0]))).toThrow(
      '[memorymanager] failed to find NUMA nodes to extend the current topology hint',
    );
  });

  it('reuses the memory of a finished init container for the app container after it', async () => {
    const pods: Pod[] = [];
    const manager = staticManager(() => pods);
    const pod = guaranteed('p', [
      { name: 'init', memory: '4Gi', init: true },
      { name: 'app', memory: '3Gi' },
    ]);
    pods.push(pod);
    manager.allocate(pod, pod.spec.initContainers![0]!, hint([0]));
    manager.allocate(pod, pod.spec.containers[0]!, hint([0]));
    // 4 GiB held in all: the app's 3 GiB came out of the init container's 4.
    const state = JSON.parse(await readFile(join(dir, 'memory_manager_state'), 'utf8'));
    expect(state.machineState['0'].memoryMap.memory).toMatchObject({ reserved: 4 * Gi, free: 7 * Gi });
    expect(state.entries.p.init[0].size).toBe(Gi);
    expect(state.entries.p.app[0].size).toBe(3 * Gi);
    // The app container's creation releases the init container's remaining block.
    manager.addContainer('p', 'app');
    const after = JSON.parse(await readFile(join(dir, 'memory_manager_state'), 'utf8'));
    expect(after.entries.p.init).toBeUndefined();
    expect(after.machineState['0'].memoryMap.memory).toMatchObject({ reserved: 3 * Gi, free: 8 * Gi });
  });

  it('releases the memory of pods that are gone once the sources are ready', async () => {
    const pods: Pod[] = [];
    const manager = staticManager(() => pods);
    const pod = guaranteed('p', [{ name: 'c', memory: '2Gi' }]);
    pods.push(pod);
    manager.allocate(pod, pod.spec.containers[0]!, hint([0]));
    pods.length = 0;
    manager.removeStaleState();
    expect(manager.numaNodes('p', 'c')).toEqual([0]);
    manager.markSourcesReady();
    manager.removeStaleState();
    expect(manager.numaNodes('p', 'c')).toEqual([]);
    const state = JSON.parse(await readFile(join(dir, 'memory_manager_state'), 'utf8'));
    expect(state.machineState['0']).toMatchObject({ numberOfAssignments: 0, cells: [0] });
    expect(state.machineState['0'].memoryMap.memory).toMatchObject({ reserved: 0, free: 11 * Gi });
  });

  it('restores its assignments after a restart, hints them again, and refuses a state the machine no longer matches', async () => {
    const pods: Pod[] = [];
    const first = staticManager(() => pods);
    const pod = guaranteed('p', [{ name: 'c', memory: '2Gi' }]);
    pods.push(pod);
    first.allocate(pod, pod.spec.containers[0]!, hint([1]));
    const second = staticManager(() => pods);
    expect(second.numaNodes('p', 'c')).toEqual([1]);
    expect(hintNodes(second.getTopologyHints(pod, pod.spec.containers[0]!)!.memory)).toEqual(['[1]*']);
    const smaller = twoNodes.map((node) => ({ ...node, memoryBytes: 8 * Gi }));
    const third = memoryManagerFromConfig(staticConfig(), dir, {
      numaMemory: () => smaller,
      memoryCapacityBytes: () => 16 * Gi,
    });
    expect(() => third.start({ activePods: () => pods })).toThrow(
      '[memorymanager] the expected machine state is different from the real one',
    );
  });
});

describe('the memory manager in admission and CreateContainer', () => {
  it('fails a pod no NUMA node set can hold as UnexpectedAdmissionError, under the none topology policy', () => {
    const manager = staticManager();
    const topology = new TopologyManager({
      policyName: 'none',
      scopeName: 'container',
      policyOptions: {},
      numaNodes: () => [],
    });
    topology.addHintProvider(manager);
    const pod = guaranteed('huge', [{ name: 'c', memory: '40Gi' }]);
    expect(topology.admit({ pod, otherPods: [] } as never)).toEqual({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message:
        'Allocate failed due to [memorymanager] failed to get the default NUMA affinity, no NUMA nodes with enough memory is available, which is unexpected',
    });
  });

  it('aligns with single-numa-node: a pod one node can hold is admitted there, a larger one refused', () => {
    const topologyOver = (manager: MemoryManager) => {
      const topology = new TopologyManager({
        policyName: 'single-numa-node',
        scopeName: 'container',
        policyOptions: {},
        numaNodes: () => [{ id: 0 }, { id: 1 }],
      });
      topology.addHintProvider(manager);
      return topology;
    };
    const big = guaranteed('big', [{ name: 'c', memory: '14Gi' }]);
    expect(topologyOver(staticManager()).admit({ pod: big, otherPods: [] } as never)).toEqual({
      admit: false,
      reason: 'TopologyAffinityError',
      message: 'Resources cannot be allocated with Topology locality',
    });
    const manager = staticManager(() => [], join(dir, 'second'));
    const topology = topologyOver(manager);
    const fits = guaranteed('fits', [{ name: 'c', memory: '8Gi' }]);
    expect(topology.admit({ pod: fits, otherPods: [] } as never)).toEqual({ admit: true });
    expect(manager.numaNodes('fits', 'c')).toEqual([0]);
    // No node set can hold it beside that one: the memory manager has no hint, and its own
    // allocation fails, as upstream's does.
    const after = guaranteed('after', [{ name: 'c', memory: '14Gi' }]);
    expect(topology.admit({ pod: after, otherPods: [] } as never)).toMatchObject({
      admit: false,
      reason: 'UnexpectedAdmissionError',
    });
  });

  it('sends the container its NUMA nodes as cpuset_mems and leaves other containers alone', async () => {
    const manager = staticManager();
    const pod = guaranteed('p', [{ name: 'c', memory: '14Gi' }]);
    manager.allocate(pod, pod.spec.containers[0]!, hint(null, false));
    const sent: unknown[] = [];
    const runtime = withContainerMemoryNodes(
      {
        createContainer: async (_sandbox: string, config: { linux?: unknown }) => {
          sent.push(config.linux);
          return `id-${sent.length}`;
        },
      } as never,
      manager,
    ) as { createContainer: (s: string, c: unknown, p: unknown) => Promise<string> };
    const labels = (uid: string, name: string) => ({
      'io.kubernetes.pod.uid': uid,
      'io.kubernetes.container.name': name,
    });
    await runtime.createContainer(
      's',
      { labels: labels('p', 'c'), linux: { resources: { cpuShares: 1024 } } },
      {},
    );
    await runtime.createContainer(
      's',
      { labels: labels('other', 'c'), linux: { resources: { cpuShares: 2 } } },
      {},
    );
    expect(sent).toEqual([
      { resources: { cpuShares: 1024, cpusetMems: '0,1' } },
      { resources: { cpuShares: 2 } },
    ]);
  });
});

describe('readNumaMemory', () => {
  it('reads each node MemTotal and huge pages from sysfs, and falls back to one node from /proc/meminfo', async () => {
    const node = join(dir, 'sys/devices/system/node/node1');
    await mkdir(join(node, 'hugepages/hugepages-2048kB'), { recursive: true });
    await writeFile(join(node, 'meminfo'), 'Node 1 MemTotal:       16318196 kB\nNode 1 MemFree:  1 kB\n');
    await writeFile(join(node, 'hugepages/hugepages-2048kB/nr_hugepages'), '512\n');
    expect(readNumaMemory(join(dir, 'sys'), join(dir, 'proc'))).toEqual([
      { id: 1, memoryBytes: 16318196 * 1024, hugePages: [{ pageSizeBytes: 2 * Mi, count: 512 }] },
    ]);
    await mkdir(join(dir, 'proc'), { recursive: true });
    await writeFile(join(dir, 'proc/meminfo'), 'MemTotal:        8000000 kB\n');
    expect(readNumaMemory(join(dir, 'nosys'), join(dir, 'proc'))).toEqual([
      { id: 0, memoryBytes: 8000000 * 1024, hugePages: [] },
    ]);
  });
});
