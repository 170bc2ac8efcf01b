import type { V1NodeStatus } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { buildNodeStatus, type NodeStatusWire, nodeStatusHasChanged } from '../src/node-object/index';

const ours = (heartbeat = 1_000): NodeStatusWire =>
  buildNodeStatus({
    capacity: { cpu: '4', memory: '8Gi' },
    allocatable: { cpu: '3500m', memory: '7Gi' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        lastHeartbeatTime: new Date(heartbeat),
        lastTransitionTime: new Date(0),
      },
    ],
    addresses: [{ type: 'InternalIP', address: '10.0.0.5' }],
    machine: {
      numCores: 4,
      memoryCapacityBytes: 8 * 2 ** 30,
      ephemeralStorageBytes: 0,
      machineID: 'm',
      systemUUID: 'u',
      bootID: 'b',
      kernelVersion: 'k',
      osImage: 'o',
      operatingSystem: 'linux',
      architecture: 'amd64',
      hostname: 'node-a',
      hugePages: [],
    },
    runtime: { runtimeName: 'containerd', runtimeVersion: '1.7.24' },
    images: [{ names: ['pause:3.10'], sizeBytes: 320_000 }],
    maxImages: 50,
    kubeletPort: 10250,
    kubeletVersion: 'v1.36.3',
  });

/** What an API server hands back after storing `status` (plain JSON). */
const stored = (status: NodeStatusWire): Wire<V1NodeStatus> => JSON.parse(JSON.stringify(status));

describe('nodeInfo.swap (NodeSwap)', () => {
  const withSwap = (capacity: number | undefined): NodeStatusWire => {
    const status = ours();
    const machine = { ...status.nodeInfo };
    return buildNodeStatus({
      capacity: status.capacity,
      allocatable: status.allocatable,
      conditions: [],
      addresses: [],
      machine: {
        numCores: 4,
        memoryCapacityBytes: 8 * 2 ** 30,
        ephemeralStorageBytes: 0,
        machineID: machine.machineID,
        systemUUID: machine.systemUUID,
        bootID: machine.bootID,
        kernelVersion: machine.kernelVersion,
        osImage: machine.osImage,
        operatingSystem: 'linux',
        architecture: 'amd64',
        hostname: 'node-a',
        hugePages: [],
        swapCapacityBytes: capacity,
      },
      runtime: undefined,
      images: [],
      maxImages: 50,
      kubeletPort: 10250,
      kubeletVersion: 'v1.36.3',
    });
  };

  it('reports the capacity in bytes only when the node has swap', () => {
    expect(withSwap(2 ** 30).nodeInfo.swap).toEqual({ capacity: 2 ** 30 });
    expect(withSwap(0).nodeInfo).not.toHaveProperty('swap');
    expect(withSwap(undefined).nodeInfo).not.toHaveProperty('swap');
  });

  it('a different capacity is a change; the same one is not', () => {
    const server = stored(withSwap(2 ** 30));
    expect(nodeStatusHasChanged(server, withSwap(2 ** 30))).toBe(false);
    expect(nodeStatusHasChanged(server, withSwap(2 ** 31))).toBe(true);
    expect(nodeStatusHasChanged(stored(withSwap(0)), withSwap(2 ** 30))).toBe(true);
  });
});

describe('nodeStatusHasChanged (server copy against what the kubelet would send)', () => {
  it('ignores heartbeat times, equal quantities in another form and fields others own', () => {
    const server = stored(ours(1_000));
    expect(nodeStatusHasChanged(server, ours(50_000))).toBe(false);
    server.capacity = { cpu: '4000m', memory: '8192Mi' };
    server.conditions!.unshift({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteController' });
    delete (server.nodeInfo as unknown as Record<string, unknown>).kubeProxyVersion; // empty, omitted
    (server.nodeInfo as unknown as Record<string, unknown>).swap = { capacity: 0 };
    expect(nodeStatusHasChanged(server, ours(50_000))).toBe(false);
  });

  it('sees a missing status and every sent field that differs', () => {
    expect(nodeStatusHasChanged(undefined, ours())).toBe(true);
    const cases: Array<(s: Wire<V1NodeStatus>) => void> = [
      (s) => {
        s.conditions![0]!.status = 'Unknown';
      },
      (s) => {
        s.conditions![0]!.message = 'Kubelet stopped posting node status.';
      },
      (s) => {
        s.conditions![0]!.lastTransitionTime = new Date(60_000).toISOString();
      },
      (s) => {
        s.conditions = [];
      },
      (s) => {
        s.allocatable!.cpu = '3';
      },
      (s) => {
        s.capacity!.pods = '110';
      },
      (s) => {
        s.capacity!.cpu = 'not-a-quantity';
      },
      (s) => {
        s.addresses = [];
      },
      (s) => {
        (s.daemonEndpoints!.kubeletEndpoint as unknown as { Port: number }).Port = 10251;
      },
      (s) => {
        s.nodeInfo!.bootID = 'rebooted';
      },
      (s) => {
        s.images![0]!.names = ['pause:3.9'];
      },
      (s) => {
        s.images = [];
      },
    ];
    for (const [i, mutate] of cases.entries()) {
      const server = stored(ours());
      mutate(server);
      expect(nodeStatusHasChanged(server, ours()), `case ${i}`).toBe(true);
    }
  });
});

describe('volumesInUse (upstream VolumesInUse setter)', () => {
  const a = 'kubernetes.io/csi/hostpath.csi.k8s.io^vol-a';
  const b = 'kubernetes.io/csi/hostpath.csi.k8s.io^vol-b';
  const withVolumes = (volumes: string[]): NodeStatusWire => {
    const base = ours();
    const { volumesInUse: _none, ...rest } = base;
    return { ...rest, ...(volumes.length ? { volumesInUse: [...volumes].sort() } : {}) };
  };

  it('is sorted and left out when empty', () => {
    const built = buildNodeStatus({
      ...{ capacity: {}, allocatable: {}, conditions: [], addresses: [] },
      machine: {
        ...stored(ours()).nodeInfo,
        numCores: 1,
        memoryCapacityBytes: 1,
        ephemeralStorageBytes: 0,
        hostname: 'h',
        hugePages: [],
      } as never,
      runtime: undefined,
      images: [],
      maxImages: 50,
      kubeletPort: 10250,
      kubeletVersion: 'v1.36.3',
      volumesInUse: [b, a],
    });
    expect(built.volumesInUse).toEqual([a, b]);
    expect('volumesInUse' in ours()).toBe(false);
  });

  it('is a change when the server lists other volumes, or some where the kubelet uses none', () => {
    expect(nodeStatusHasChanged(stored(withVolumes([a])), withVolumes([a]))).toBe(false);
    expect(nodeStatusHasChanged(stored(withVolumes([a])), withVolumes([a, b]))).toBe(true);
    expect(nodeStatusHasChanged(stored(withVolumes([a])), withVolumes([]))).toBe(true);
    expect(nodeStatusHasChanged(stored(withVolumes([])), withVolumes([]))).toBe(false);
  });
});
