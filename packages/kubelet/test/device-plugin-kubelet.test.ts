import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { NodeStatusReporter } from '@nodeagent/node-status';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, SampleDevicePlugin, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { DeviceManager } from '../src/devicemanager/device-manager';
import { withContainerDevices } from '../src/devicemanager/device-runtime';
import { Kubelet } from '../src/kubelet';
import { TopologyManager } from '../src/topologymanager/topology-manager';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox, RecordingWriter } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

type CreateConfig = Parameters<PodRuntime['createContainer']>[1];

let dir: string;
let fake: FakeRuntime;
let client: CriClient;
let manager: DeviceManager;
let plugin: SampleDevicePlugin;
let kubelet: Kubelet;
let writer: RecordingWriter;
/** Every CreateContainer config as it left the kubelet (after the device plugins' additions). */
let created: CreateConfig[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-dp-kubelet-${process.pid}-`));
  fake = await FakeRuntime.start({ images: [{ ref: busybox }, { ref: 'localhost/nodeagent/pause:3.10' }] });
  client = await createCriClient({ endpoint: fake.endpoint });
  const rootDir = join(dir, 'root');
  manager = new DeviceManager({ pluginDir: join(rootDir, 'device-plugins'), grpc });
  const topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  topology.addHintProvider(manager);
  created = [];
  const cri = criPodRuntime(client);
  const recording = new Proxy(cri, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      return (
        sandboxId: string,
        config: CreateConfig,
        sandboxConfig: Parameters<PodRuntime['createContainer']>[2],
      ) => {
        created.push(config);
        return target.createContainer(sandboxId, config, sandboxConfig);
      };
    },
  });
  writer = new RecordingWriter();
  kubelet = new Kubelet({
    node: { name: 'node-a', rootDir, hostIPs: ['192.168.50.2'], memoryCapacity: 4 * 1024 ** 3 },
    runtime: withContainerDevices(recording, manager),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    api: { statusWriter: writer },
    pacing: {
      clock: new FakeClock(Date.now()),
      relistPeriodMs: 3_600_000,
      retryMs: 3_600_000,
      sleep: async () => {},
    },
    mounter: new RecordingMounter(),
    allocateResources: topology,
    pendingAdmission: manager,
    deviceHealth: manager,
  });
  await kubelet.start();
  await manager.start(() =>
    kubelet
      .getPods()
      .filter(
        (p) => !['Failed', 'Succeeded'].includes(kubelet.getPodStatus(p.metadata.uid ?? '')?.phase ?? ''),
      ),
  );
  plugin = new SampleDevicePlugin({
    pluginDir: join(rootDir, 'device-plugins'),
    deviceDir: join(dir, 'devices'),
    extras: {
      envs: { EXAMPLE_RESOURCE: 'allocated' },
      annotations: { 'example.com/devices': 'yes' },
      deviceNodes: [{ containerPath: '/dev/example0', hostPath: '/dev/null', permissions: 'rw' }],
      cdiDevices: ['example.com/resource=all'],
    },
  });
  await plugin.start();
  await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
});

afterEach(async () => {
  plugin.stop();
  manager.stop();
  await kubelet.stop();
  client.close();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function devicePod(name: string, count: number): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${process.pid}-${name}`,
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources: { limits: { 'example.com/resource': String(count) } },
        },
      ],
      terminationGracePeriodSeconds: 5,
    },
  };
}

describe('a kubelet with the device manager', () => {
  it('runs a pod with its device mounted and the plugin envs, device nodes, annotations and CDI devices in CreateContainer', async () => {
    const pod = devicePod('np-dp', 1);
    kubelet.addPod(pod);
    await waitFor('running', () => kubelet.getPodStatus(pod.metadata.uid!)?.phase === 'Running', 20_000);
    const config = created.find((c) => c.metadata?.name === 'c')!;
    expect(config.mounts?.[0]).toEqual({
      containerPath: '/tmp/Dev-1',
      hostPath: plugin.deviceFile('Dev-1'),
      readonly: false,
    });
    expect(config.envs).toContainEqual({ key: 'EXAMPLE_RESOURCE', value: 'allocated' });
    expect(config.devices).toEqual([
      { containerPath: '/dev/example0', hostPath: '/dev/null', permissions: 'rw' },
    ]);
    expect(config.annotations?.['example.com/devices']).toBe('yes');
    expect(config.CDIDevices).toEqual([{ name: 'example.com/resource=all' }]);
  });

  it('fails a pod asking for 2 devices while 1 is held: UnexpectedAdmissionError with the recorded message; it never runs', async () => {
    const first = devicePod('np-dp', 1);
    kubelet.addPod(first);
    await waitFor('running', () => kubelet.getPodStatus(first.metadata.uid!)?.phase === 'Running', 20_000);
    const over = devicePod('np-dp-over', 2);
    kubelet.addPod(over);
    const status = await waitFor(
      'failed',
      () => {
        const s = kubelet.getPodStatus(over.metadata.uid!);
        return s?.phase === 'Failed' ? s : undefined;
      },
      20_000,
    );
    expect(status.reason).toBe('UnexpectedAdmissionError');
    expect(status.message).toBe(
      'Pod was rejected: Allocate failed due to requested number of devices unavailable for example.com/resource. Requested: 2, Available: 1, which is unexpected',
    );
    await kubelet.settle();
    expect(created.filter((c) => c.labels?.['io.kubernetes.pod.name'] === 'np-dp-over')).toEqual([]);
  });

  it("gives a removed pod's devices to the next pod", async () => {
    const first = devicePod('np-dp', 1);
    kubelet.addPod(first);
    await waitFor('running', () => kubelet.getPodStatus(first.metadata.uid!)?.phase === 'Running', 20_000);
    kubelet.removePod(first);
    await kubelet.settle();
    await kubelet.cleanups();
    const both = devicePod('np-dp-both', 2);
    kubelet.addPod(both);
    await waitFor('running', () => kubelet.getPodStatus(both.metadata.uid!)?.phase === 'Running', 20_000);
    expect(
      manager
        .containerDevices(both.metadata.uid!, 'c')
        .map((d) => d.id)
        .sort(),
    ).toEqual(['Dev-1', 'Dev-2']);
    expect(manager.containerDevices(first.metadata.uid!, 'c')).toEqual([]);
  });

  it('gives the devices of a pod refused after they were reserved (NodeAffinity) to the next pod', async () => {
    const refused = devicePod('np-dp-refused', 2);
    // The general predicates run after the resource managers: the devices are reserved by then.
    refused.spec.nodeSelector = { 'example.com/pool': 'gpu' };
    kubelet.addPod(refused);
    const status = await waitFor(
      'refused',
      () => {
        const s = kubelet.getPodStatus(refused.metadata.uid!);
        return s?.phase === 'Failed' ? s : undefined;
      },
      20_000,
    );
    expect(status.reason).toBe('NodeAffinity');
    await kubelet.settle();
    const next = devicePod('np-dp-next', 2);
    kubelet.addPod(next);
    await waitFor('running', () => kubelet.getPodStatus(next.metadata.uid!)?.phase === 'Running', 20_000);
    expect(manager.containerDevices(refused.metadata.uid!, 'c')).toEqual([]);
  });

  it('fails the pod when the plugin dies during its Allocate, and runs nothing for it', async () => {
    plugin.dieOnNextAllocate();
    const pod = devicePod('np-dp-dies', 1);
    kubelet.addPod(pod);
    const status = await waitFor(
      'failed',
      () => {
        const s = kubelet.getPodStatus(pod.metadata.uid!);
        return s?.phase === 'Failed' ? s : undefined;
      },
      20_000,
    );
    expect(status.reason).toBe('UnexpectedAdmissionError');
    expect(status.message).toMatch(
      /^Pod was rejected: Allocate failed due to rpc error: code = \w+ desc = .*, which is unexpected$/,
    );
    expect(created).toEqual([]);
  });

  it('keeps a running pod running when its device turns unhealthy, while allocatable shrinks', async () => {
    const pod = devicePod('np-dp', 1);
    kubelet.addPod(pod);
    await waitFor('running', () => kubelet.getPodStatus(pod.metadata.uid!)?.phase === 'Running', 20_000);
    expect(kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.allocatedResourcesStatus).toEqual(
      [{ name: 'example.com/resource', resources: [{ resourceID: 'Dev-1', health: 'Healthy' }] }],
    );
    const resynced: string[][] = [];
    manager.watchHealth((uids) => {
      resynced.push(uids);
      kubelet.resyncPods(uids.flatMap((uid) => kubelet.getPod(uid) ?? []));
    });
    plugin.setHealth('Dev-1', 'Unhealthy');
    await waitFor('shrunk', () => manager.getCapacity().allocatable['example.com/resource'] === '1', 10_000);
    expect(manager.getCapacity().capacity['example.com/resource']).toBe('2');
    expect(resynced).toEqual([[pod.metadata.uid]]);
    // ResourceHealthStatus: the container's status names its device unhealthy; the pod keeps running.
    const status = await waitFor(
      'the unhealthy device in the status',
      () => {
        const s = kubelet.getPodStatus(pod.metadata.uid!);
        return s?.containerStatuses?.[0]?.allocatedResourcesStatus?.[0]?.resources[0]?.health === 'Unhealthy'
          ? s
          : undefined;
      },
      20_000,
    );
    expect(status.phase).toBe('Running');
    // The other device's health changes nothing for this pod.
    plugin.setHealth('Dev-2', 'Unhealthy');
    await waitFor(
      'shrunk again',
      () => manager.getCapacity().allocatable['example.com/resource'] === '0',
      10_000,
    );
    expect(resynced).toHaveLength(1);
  });
});

describe('with feature gate ResourceHealthStatus off', () => {
  it('leaves allocatedResourcesStatus out of the container statuses', async () => {
    const topology = new TopologyManager({
      policyName: 'none',
      scopeName: 'container',
      policyOptions: {},
      numaNodes: () => [],
    });
    topology.addHintProvider(manager);
    const gateOff = new Kubelet({
      node: {
        name: 'node-b',
        rootDir: join(dir, 'root-b'),
        hostIPs: ['192.168.50.3'],
        memoryCapacity: 4 * 1024 ** 3,
      },
      runtime: withContainerDevices(criPodRuntime(client), manager),
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs-b'),
        volumePluginDir: join(dir, 'volume-plugins'),
        featureGates: { ResourceHealthStatus: false },
      }).config,
      api: { statusWriter: new RecordingWriter() },
      pacing: {
        clock: new FakeClock(Date.now()),
        relistPeriodMs: 3_600_000,
        retryMs: 3_600_000,
        sleep: async () => {},
      },
      mounter: new RecordingMounter(),
      allocateResources: topology,
      pendingAdmission: manager,
      deviceHealth: manager,
    });
    await gateOff.start();
    try {
      const pod = devicePod('np-dp-gate-off', 1);
      gateOff.addPod(pod);
      const status = await waitFor(
        'running',
        () => {
          const s = gateOff.getPodStatus(pod.metadata.uid!);
          return s?.phase === 'Running' ? s : undefined;
        },
        20_000,
      );
      expect(manager.containerDevices(pod.metadata.uid!, 'c')).toHaveLength(1);
      expect(status.containerStatuses?.[0]?.allocatedResourcesStatus).toBeUndefined();
    } finally {
      await gateOff.stop();
    }
  });
});

describe('the Node the API server holds', () => {
  let server: ApiServer;
  beforeEach(async () => {
    server = await startApiServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('advertises the plugin devices as capacity and allocatable (the recorded dp-register case)', async () => {
    const reporter = new NodeStatusReporter({
      kubeConfig: server.kubeConfig(),
      config: { nodeName: 'node-a', nodeIPs: ['10.0.0.5'] },
      machineInfo: async () => ({
        numCores: 2,
        memoryCapacityBytes: 4 * 2 ** 30,
        ephemeralStorageBytes: 10 * 2 ** 30,
        machineID: 'm',
        systemUUID: 'u',
        bootID: 'b',
        kernelVersion: '6.1.0',
        osImage: 'Debian',
        operatingSystem: 'linux',
        architecture: 'amd64',
        hostname: 'node-a',
        hugePages: [],
      }),
      extendedResources: () => manager.getCapacity(),
    });
    await reporter.start();
    const core = server.kubeConfig().makeApiClient(CoreV1Api);
    const node = await waitFor(
      'node status',
      async () => {
        const n = await core.readNode({ name: 'node-a' }).catch(() => undefined);
        return n?.status?.allocatable?.['example.com/resource'] ? n : undefined;
      },
      20_000,
    );
    await reporter.stop();
    expect(node.status?.allocatable?.['example.com/resource']).toBe('2');
    expect(node.status?.capacity?.['example.com/resource']).toBe('2');
  });
});
