import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { formatPodResourcesAnswers, PodResourcesClient, SampleDevicePlugin } from '@nodeagent/testing';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { CpuSet } from '../src/cpumanager/cpu-set';
import { DeviceManager } from '../src/devicemanager/device-manager';
import { PodResourcesServer } from '../src/podresources/podresources-server';
import { TopologyManager } from '../src/topologymanager/topology-manager';
import { waitFor } from './helpers/wait-for';

const fidelity = join(__dirname, '../../../fidelity/node-plugins-v1.36');

function pod(name: string, devices: number): Pod {
  const limits: Record<string, string> = devices > 0 ? { 'example.com/resource': String(devices) } : {};
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits } }] },
  } as Pod;
}

let dir: string;
let manager: DeviceManager;
let plugin: SampleDevicePlugin;
let server: PodResourcesServer;
let client: PodResourcesClient;
let active: Pod[];
let now: number;
let registry: Registry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-podres-${process.pid}-`));
  active = [];
  now = 0;
  registry = new Registry();
  manager = new DeviceManager({ pluginDir: join(dir, 'device-plugins'), grpc });
  await manager.start(() => active);
  plugin = new SampleDevicePlugin({
    pluginDir: join(dir, 'device-plugins'),
    deviceDir: join(dir, 'devices'),
  });
  await plugin.start();
  await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
  server = new PodResourcesServer({
    pods: { activePods: () => active },
    devices: manager,
    cpus: {
      exclusiveCpus: (uid) => (uid === 'uid-np-dp-upstream' ? new CpuSet([2, 3]) : new CpuSet()),
      allocatableCpus: () => new CpuSet([1, 2, 3]),
    },
    grpc,
    clock: { now: () => now },
    registry,
  });
  await server.start(join(dir, 'pod-resources', 'kubelet.sock'));
  client = new PodResourcesClient(join(dir, 'pod-resources', 'kubelet.sock'));
});

afterEach(async () => {
  client.close();
  server.stop();
  plugin.stop();
  manager.stop();
  await rm(dir, { recursive: true, force: true });
});

async function admit(p: Pod): Promise<void> {
  const topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  topology.addHintProvider(manager);
  expect(topology.admit({ pod: p, otherPods: [] })).toEqual({ admit: true });
  expect(await (manager.admissionOutcome(p.metadata.uid!) ?? { admit: true })).toEqual({ admit: true });
  active.push(p);
}

describe('pod-resources API v1', () => {
  it("answers List, GetAllocatableResources and Get as upstream's recording shows for device pods", async () => {
    await admit(pod('np-dp-upstream', 1));
    await admit(pod('np-plain', 0));
    const lines = formatPodResourcesAnswers({
      list: await client.list(),
      allocatable: await client.getAllocatableResources(),
      gets: [await client.get('default', 'np-dp-upstream')],
    });
    const recorded = (await readFile(join(fidelity, 'pod-resources-answers.txt'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('np-dp-upstream') || line.startsWith('allocatable device'));
    expect(lines.filter((line) => !line.includes('np-plain'))).toEqual(recorded);
    expect(lines).toContain('pod default/np-plain container c none');
    const listed = (await client.list()).find((p) => p.name === 'np-dp-upstream')!;
    expect(listed.containers[0]!.cpuIds).toEqual([2, 3]);
    expect((await client.getAllocatableResources()).cpuIds).toEqual([1, 2, 3]);
  });

  it("lists the memory manager's blocks of each container and each node's allocatable memory, with their NUMA nodes", async () => {
    const memoryServer = new PodResourcesServer({
      pods: { activePods: () => [pod('np-mem', 0)] },
      devices: manager,
      memory: {
        memory: (uid, name) =>
          uid === 'uid-np-mem' && name === 'c'
            ? [
                { numaAffinity: [0, 1], type: 'memory', size: 2 ** 31 },
                { numaAffinity: [1], type: 'hugepages-1Gi', size: 2 ** 30 },
              ]
            : [],
        allocatableMemory: () => [{ numaAffinity: [0], type: 'memory', size: 11 * 2 ** 30 }],
      },
      grpc,
      registry: new Registry(),
    });
    const socket = join(dir, 'pod-resources', 'memory.sock');
    await memoryServer.start(socket);
    const memoryClient = new PodResourcesClient(socket);
    try {
      const [listed] = await memoryClient.list();
      expect(listed!.containers[0]!.memory).toEqual([
        { memoryType: 'memory', size: 2 ** 31, topology: { nodes: [{ ID: 0 }, { ID: 1 }] } },
        { memoryType: 'hugepages-1Gi', size: 2 ** 30, topology: { nodes: [{ ID: 1 }] } },
      ]);
      expect((await memoryClient.getAllocatableResources()).memory).toEqual([
        { memoryType: 'memory', size: 11 * 2 ** 30, topology: { nodes: [{ ID: 0 }] } },
      ]);
    } finally {
      memoryClient.close();
      memoryServer.stop();
    }
  });

  it("refuses Get of a pod it does not run with upstream's text", async () => {
    await expect(client.get('default', 'missing')).rejects.toMatchObject({
      code: grpc.status.UNKNOWN,
      details: 'pod missing in namespace default not found',
    });
    expect(await registry.getSingleMetricAsString('kubelet_pod_resources_endpoint_errors_get')).toContain(
      'kubelet_pod_resources_endpoint_errors_get{server_api_version="v1"} 1',
    );
  });

  it('allows a burst of 10 calls, refuses the 11th with ResourceExhausted, and refills at 100 a second', async () => {
    for (let i = 0; i < 10; i++) await client.list();
    await expect(client.list()).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'rejected by rate limit',
    });
    now += 10; // one token at 100 qps
    await client.list();
    await expect(client.list()).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(await registry.getSingleMetricAsString('kubelet_pod_resources_endpoint_requests_list')).toContain(
      'kubelet_pod_resources_endpoint_requests_list{server_api_version="v1"} 11',
    );
  });
});
