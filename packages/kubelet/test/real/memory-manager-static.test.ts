/**
 * The Static memory manager on a real containerd (1.6, or 2.1 with NODEAGENT_CONTAINERD=2.1) on
 * this machine's NUMA nodes, with 100Mi of node 0 reserved for the system: a Guaranteed pod's
 * container is given its memory from node 0, its CreateContainer carries cpuset_mems "0"
 * (read back from the OCI spec containerd wrote, linux.resources.cpu.mems), a BestEffort pod's
 * container carries none, and the block is released when the pod goes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../../src/cri/pod-runtime';
import type { MemoryManager } from '../../src/memorymanager/memory-manager';
import { memoryManagerFromConfig } from '../../src/memorymanager/memory-manager-config';
import { withContainerMemoryNodes } from '../../src/memorymanager/memory-nodes-runtime';
import { TopologyManager } from '../../src/topologymanager/topology-manager';
import { type NodeHarness, runtimeLookedUpPerCall, startNodeHarness, waitFor } from './node-harness';

let node: NodeHarness;
let manager: MemoryManager | undefined;
let topology: TopologyManager | undefined;
/** The pods' runtime: plain until the memory manager exists, then with each container's NUMA nodes. */
let runtime: PodRuntime | undefined;

beforeAll(async () => {
  const podRuntime = runtimeLookedUpPerCall(() => runtime);
  node = await startNodeHarness({
    criClient: (client) => {
      runtime = criPodRuntime(client);
      return client;
    },
    kubelet: {
      runtime: podRuntime,
      allocateResources: { admit: (attrs) => topology?.admit(attrs) ?? { admit: true } },
    },
  });
  const rootDir = join(node.dir, 'root');
  manager = memoryManagerFromConfig(
    {
      ...defaultKubeletConfiguration(),
      memoryManagerPolicy: 'Static',
      reservedMemory: [{ numaNode: 0, limits: { memory: '100Mi' } }],
    },
    rootDir,
  );
  topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  topology.addHintProvider(manager);
  runtime = withContainerMemoryNodes(runtime as PodRuntime, manager);
  const kubelet = node.kubelet;
  manager.start({
    activePods: () =>
      kubelet
        .getPods()
        .filter(
          (p) => !['Succeeded', 'Failed'].includes(kubelet.getPodStatus(p.metadata.uid ?? '')?.phase ?? ''),
        ),
  });
  manager.markSourcesReady();
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

const sleeper = (name: string, resources: object) => ({
  metadata: { name, namespace: 'default' },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: node.busybox, command: ['sleep', '3600'], resources }],
  },
});

/** The cpu.mems containerd put in the container's OCI spec ("" when CreateContainer sent none). */
async function specMems(pod: string): Promise<string> {
  const id = (node.getPod(pod)?.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^\w+:\/\//, '');
  const status = await node.client.containerStatus({ containerId: id, verbose: true });
  const info = JSON.parse(status.info?.info ?? '{}') as {
    runtimeSpec?: { linux?: { resources?: { cpu?: { mems?: string } } } };
  };
  return info.runtimeSpec?.linux?.resources?.cpu?.mems ?? '';
}

describe('Static memory manager on containerd', () => {
  it('pins a Guaranteed container to node 0 through cpuset_mems, and leaves a BestEffort one alone', async () => {
    const guaranteed = { cpu: '100m', memory: '64Mi' };
    node.createPod(sleeper('guaranteed', { requests: guaranteed, limits: guaranteed }));
    await node.waitPod('guaranteed', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined));
    expect(await specMems('guaranteed')).toBe('0');
    node.createPod(sleeper('besteffort', {}));
    await node.waitPod('besteffort', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined));
    expect(await specMems('besteffort')).toBe('');
    const uid = node.getPod('guaranteed')?.metadata.uid ?? '';
    const state = JSON.parse(await readFile(join(node.dir, 'root', 'memory_manager_state'), 'utf8'));
    expect(state.entries[uid].c).toEqual([{ numaAffinity: [0], type: 'memory', size: 64 * 2 ** 20 }]);
    expect(state.machineState['0'].memoryMap.memory.reserved).toBe(64 * 2 ** 20);
  });

  it('gives the block back when the Guaranteed pod goes', async () => {
    node.deletePod('guaranteed', 0);
    await waitFor(
      'the block released',
      async () => {
        manager?.removeStaleState();
        const state = JSON.parse(await readFile(join(node.dir, 'root', 'memory_manager_state'), 'utf8'));
        return state.entries === undefined && state.machineState['0'].memoryMap.memory.reserved === 0
          ? true
          : undefined;
      },
      60_000,
    );
  });
});
