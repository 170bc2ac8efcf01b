/**
 * A device plugin's devices in a real containerd pod (1.6, or 2.1 with NODEAGENT_CONTAINERD=2.1):
 * our sample plugin registers with the device manager, a pod asking example.com/resource: 1 runs
 * and its container reads the device file the plugin allocated (mounted at /tmp/Dev-1, as
 * upstream's sample device plugin mounts it), the plugin's env and the device node it handed
 * over; a pod asking 2 while 1 is held fails with UnexpectedAdmissionError and never runs.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SampleDevicePlugin } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodAdmitAttributes } from '../../src/admission/admit-handler';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../../src/cri/pod-runtime';
import { DeviceManager } from '../../src/devicemanager/device-manager';
import { withContainerDevices } from '../../src/devicemanager/device-runtime';
import { TopologyManager } from '../../src/topologymanager/topology-manager';
import { type NodeHarness, runtimeLookedUpPerCall, startNodeHarness } from './node-harness';

let node: NodeHarness;
let manager: DeviceManager | undefined;
let plugin: SampleDevicePlugin | undefined;
let runtime: PodRuntime | undefined;

beforeAll(async () => {
  // The harness makes its CRI client and --root-dir itself: the runtime, admission and its
  // pending end are looked up at each call, so the device manager can be built once they exist.
  const podRuntime = runtimeLookedUpPerCall(() => runtime);
  let topology: TopologyManager | undefined;
  node = await startNodeHarness({
    criClient: (client) => {
      runtime = criPodRuntime(client);
      return client;
    },
    kubelet: {
      runtime: podRuntime,
      allocateResources: { admit: (attrs: PodAdmitAttributes) => topology?.admit(attrs) ?? { admit: true } },
      pendingAdmission: { admissionOutcome: (uid: string) => manager?.admissionOutcome(uid) },
    },
  });
  const pluginDir = join(node.dir, 'root', 'device-plugins');
  manager = new DeviceManager({ pluginDir, grpc });
  topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  topology.addHintProvider(manager);
  runtime = withContainerDevices(runtime as PodRuntime, manager);
  await manager.start(() => node.kubelet.getPods());
  plugin = new SampleDevicePlugin({
    pluginDir,
    deviceDir: join(node.dir, 'devices'),
    extras: {
      envs: { EXAMPLE_RESOURCE_VISIBLE: 'yes' },
      deviceNodes: [{ containerPath: '/dev/example0', hostPath: '/dev/null', permissions: 'rw' }],
    },
  });
  await plugin.start();
}, 180_000);

afterAll(async () => {
  plugin?.stop();
  manager?.stop();
  await node?.stop();
}, 120_000);

const sleeper = (name: string, count: number) => ({
  metadata: { name, namespace: 'default' },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'c',
        image: node.busybox,
        command: ['sleep', '3600'],
        resources: { limits: { 'example.com/resource': String(count) } },
      },
    ],
  },
});

describe('a device plugin on containerd', () => {
  it('runs a pod whose container sees the allocated device file, env and device node', async () => {
    node.createPod(sleeper('np-dp', 1));
    await node.waitPod('np-dp', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined), 60_000);
    const id = plugin!.allocations[0]![0]!;
    expect(await node.exec('np-dp', 'c', ['cat', `/tmp/${id}`])).toBe(`${id}\n`);
    expect(await node.exec('np-dp', 'c', ['sh', '-c', 'echo $EXAMPLE_RESOURCE_VISIBLE'])).toBe('yes\n');
    expect(await node.exec('np-dp', 'c', ['sh', '-c', 'test -c /dev/example0 && echo char'])).toBe('char\n');
  });

  it('fails a pod asking 2 while 1 is held, with the recorded reason and message', async () => {
    node.createPod(sleeper('np-dp-over', 2));
    const status = await node.waitPod(
      'np-dp-over',
      'Failed',
      (p) => (p.status?.phase === 'Failed' ? p.status : undefined),
      60_000,
    );
    expect(status.reason).toBe('UnexpectedAdmissionError');
    expect(status.message).toBe(
      'Pod was rejected: Allocate failed due to requested number of devices unavailable for example.com/resource. Requested: 2, Available: 1, which is unexpected',
    );
  });
});
