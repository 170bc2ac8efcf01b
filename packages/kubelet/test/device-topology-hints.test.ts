import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SampleDevicePlugin } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { DeviceManager } from '../src/devicemanager/device-manager';
import { deviceTopologyHints } from '../src/devicemanager/device-topology-hints';
import { NumaMask } from '../src/topologymanager/numa-mask';
import { TopologyManager } from '../src/topologymanager/topology-manager';
import { waitFor } from './helpers/wait-for';

function pod(name: string, devices: number): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      containers: [
        { name: 'c', image: 'busybox', resources: { limits: { 'example.com/resource': String(devices) } } },
      ],
    },
  } as Pod;
}

const device = (id: string, node?: number) => ({
  ID: id,
  health: 'Healthy',
  ...(node === undefined ? {} : { topology: { nodes: [{ ID: node }] } }),
});

describe('device topology hints (upstream generateDeviceTopologyHints)', () => {
  const devices = new Map([
    ['Dev-1', device('Dev-1', 0)],
    ['Dev-2', device('Dev-2', 1)],
    ['Dev-3', device('Dev-3', 1)],
  ]);
  const healthy = new Set(devices.keys());
  const masks = (hints: ReturnType<typeof deviceTopologyHints>) =>
    hints?.map((h) => `${h.affinity?.toString()}${h.preferred ? ' preferred' : ''}`);

  it('prefers the narrowest NUMA sets holding enough devices', () => {
    const hints = deviceTopologyHints({
      devices,
      healthy,
      available: [...healthy],
      request: 2,
      numaNodes: [0, 1],
    });
    expect(masks(hints)).toEqual([`${new NumaMask([1])} preferred`, `${new NumaMask([0, 1])}`]);
  });

  it('gives no preference when no device reports a topology, and no hint when too few are free', () => {
    const plain = new Map([['a', device('a')]]);
    expect(
      deviceTopologyHints({
        devices: plain,
        healthy: new Set(['a']),
        available: ['a'],
        request: 1,
        numaNodes: [0, 1],
      }),
    ).toBeUndefined();
    expect(
      deviceTopologyHints({ devices, healthy, available: ['Dev-1'], request: 2, numaNodes: [0, 1] }),
    ).toEqual([]);
  });
});

describe('the device manager as a topology manager hint provider', () => {
  let dir: string;
  let manager: DeviceManager;
  let plugin: SampleDevicePlugin;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-devtopo-${process.pid}-`));
    manager = new DeviceManager({ pluginDir: join(dir, 'device-plugins'), grpc, numaNodes: [0, 1] });
    await manager.start(() => []);
    plugin = new SampleDevicePlugin({
      pluginDir: join(dir, 'device-plugins'),
      deviceDir: join(dir, 'devices'),
      devices: [
        { id: 'Dev-1', health: 'Healthy', numaNode: 0 },
        { id: 'Dev-2', health: 'Healthy', numaNode: 1 },
        { id: 'Dev-3', health: 'Healthy', numaNode: 1 },
      ],
    });
    await plugin.start();
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '3', 10_000);
  });
  afterEach(async () => {
    plugin.stop();
    manager.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const topology = () => {
    const t = new TopologyManager({
      policyName: 'single-numa-node',
      scopeName: 'container',
      policyOptions: {},
      numaNodes: () => [
        { id: 0, distances: [10, 20] },
        { id: 1, distances: [20, 10] },
      ],
    });
    t.addHintProvider(manager);
    return t;
  };

  it('allocates two devices from the one NUMA node that has two, and reports the node to pod-resources', async () => {
    expect(topology().admit({ pod: pod('two', 2), otherPods: [] })).toEqual({ admit: true });
    await manager.admissionOutcome('uid-two');
    expect(plugin.allocations[0]!.sort()).toEqual(['Dev-2', 'Dev-3']);
    expect(manager.containerDevices('uid-two', 'c').map((d) => d.numaNodes)).toEqual([[1], [1]]);
  });

  it('refuses three devices under single-numa-node with TopologyAffinityError', () => {
    expect(topology().admit({ pod: pod('three', 3), otherPods: [] })).toEqual({
      admit: false,
      reason: 'TopologyAffinityError',
      message: 'Resources cannot be allocated with Topology locality',
    });
    expect(plugin.allocations).toEqual([]);
  });
});
