import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api } from '@kubernetes/client-node';
import { formatPodResourcesAnswers, PodResourcesClient, SampleDevicePlugin } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChild, waitFor } from './binary-harness';
import { busybox, type FakeNodeKubelet, fakeNodeKubelet } from './fake-node-kubelet';
import { recordedPodResourcesAnswers, upstreamCase } from './node-plugins-recording';

// The binary with upstream's sample device plugin's cases (fidelity/node-plugins-v1.36): our own
// sample plugin registers on <root-dir>/device-plugins/kubelet.sock, the Node advertises its two
// devices, a pod gets one, and a pod asking two while one is held fails as upstream's did.
const nodeName = 'np-ours';

let fakeNode: FakeNodeKubelet;
let dir: string;
let core: CoreV1Api;
let child: ChildProcess | undefined;
let plugin: SampleDevicePlugin | undefined;

beforeAll(async () => {
  fakeNode = await fakeNodeKubelet({
    nodeName,
    dirPrefix: 'na-kubelet-dp',
    config: ['nodeStatusUpdateFrequency: 1s'],
  });
  ({ dir, core } = fakeNode);
  ({ child } = await fakeNode.startKubelet());
}, 60_000);

afterAll(async () => {
  plugin?.stop();
  await fakeNode?.close();
});

function devicePod(name: string, count: number) {
  return {
    metadata: { name },
    spec: {
      nodeName,
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources: {
            limits: { 'example.com/resource': String(count) },
            requests: { 'example.com/resource': String(count) },
          },
        },
      ],
    },
  };
}

describe('nodeagent-kubelet binary with a device plugin', { timeout: 120_000 }, () => {
  it('registers the plugin, runs a pod on one device and fails the one asking two while one is held', async () => {
    const pluginDir = join(dir, 'root', 'device-plugins');
    await waitFor('the registration socket', async () => existsSync(join(pluginDir, 'kubelet.sock')), 60_000);
    plugin = new SampleDevicePlugin({ pluginDir, deviceDir: join(dir, 'devices'), watchKubeletSocket: true });
    await plugin.start();

    // dp-register: node allocatable example.com/resource=2
    const allocatable = await waitFor(
      'the devices on the Node',
      async () => {
        const n = await core.readNode({ name: nodeName }).catch(() => undefined);
        return n?.status?.allocatable?.['example.com/resource'];
      },
      60_000,
    );
    expect(`node allocatable example.com/resource=${allocatable}`).toBe(await upstreamCase('dp-register'));

    // dp-alloc: phase=Running, the device file mounted at /tmp/Dev-1.
    await core.createNamespacedPod({ namespace: 'default', body: devicePod('np-dp-ours', 1) });
    const phase = await waitFor(
      'the pod running',
      async () => {
        const p = await core.readNamespacedPod({ name: 'np-dp-ours', namespace: 'default' });
        return p.status?.phase === 'Running' ? p.status.phase : undefined;
      },
      60_000,
    );
    const mounted = plugin.allocations[0]!.map((id) => `/tmp/${id}`).join(' ');
    expect(`phase=${phase} sees: ${mounted} `).toBe(await upstreamCase('dp-alloc'));

    // dp-overcommit: phase=Failed reason=UnexpectedAdmissionError and upstream's message.
    await core.createNamespacedPod({ namespace: 'default', body: devicePod('np-dp-over', 2) });
    const status = await waitFor(
      'the pod failed',
      async () => {
        const p = await core.readNamespacedPod({ name: 'np-dp-over', namespace: 'default' });
        return p.status?.phase === 'Failed' ? p.status : undefined;
      },
      60_000,
    );
    const line = `phase=${status.phase} reason=${status.reason}: ${status.message}`;
    // The recording is cut after "Requested: 2,"; ours must begin with it and end as upstream's source does.
    expect(line.startsWith(await upstreamCase('dp-overcommit'))).toBe(true);
    expect(status.message).toBe(
      'Pod was rejected: Allocate failed due to requested number of devices unavailable for example.com/resource. Requested: 2, Available: 1, which is unexpected',
    );
    expect(plugin.allocations).toEqual([['Dev-1']]);

    // podres-list, podres-allocatable, podres-get: our client's answers in the recorded format.
    const client = new PodResourcesClient(join(dir, 'root', 'pod-resources', 'kubelet.sock'));
    try {
      const lines = formatPodResourcesAnswers({
        list: await client.list(),
        allocatable: await client.getAllocatableResources(),
        gets: [await client.get('default', 'np-dp-ours')],
      });
      const recorded = (await recordedPodResourcesAnswers())
        .filter((l) => l.includes('np-dp-upstream') || l.startsWith('allocatable device'))
        .map((l) => l.replace('np-dp-upstream', 'np-dp-ours'));
      expect(lines).toEqual(recorded);
    } finally {
      client.close();
    }
  });

  it('keeps the allocation across a kill -9 and restart: the plugin re-registers, the pod keeps Dev-1, Dev-2 is still the only one free', async () => {
    await killChild(child);
    ({ child } = await fakeNode.startKubelet());
    await waitFor(
      'the plugin registering again',
      async () =>
        plugin!.log.includes('inotify: kubelet.sock created, restarting.') &&
        plugin!.log.filter((l) => l === 'Device Plugin registered with the Kubelet').length >= 2
          ? true
          : undefined,
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the plugin's log: ${JSON.stringify(plugin!.log)}`);
    });
    const client = new PodResourcesClient(join(dir, 'root', 'pod-resources', 'kubelet.sock'));
    try {
      const pod = await waitFor(
        'the pod listed again',
        async () => {
          const pods = await client.list().catch(() => []);
          const found = pods.find((p) => p.name === 'np-dp-ours');
          return found && found.containers[0]!.devices.length > 0 ? found : undefined;
        },
        60_000,
      );
      expect(pod.containers[0]!.devices).toEqual([
        expect.objectContaining({ resourceName: 'example.com/resource', deviceIds: ['Dev-1'] }),
      ]);
    } finally {
      client.close();
    }
    // No second Allocate: the checkpoint kept the container's device.
    expect(plugin!.allocations).toEqual([['Dev-1']]);
    await core.createNamespacedPod({ namespace: 'default', body: devicePod('np-dp-after', 1) });
    await waitFor(
      'the new pod running',
      async () => {
        const p = await core.readNamespacedPod({ name: 'np-dp-after', namespace: 'default' });
        return p.status?.phase === 'Running' ? true : undefined;
      },
      60_000,
    );
    expect(plugin!.allocations).toEqual([['Dev-1'], ['Dev-2']]);
    const first = await core.readNamespacedPod({ name: 'np-dp-ours', namespace: 'default' });
    expect(first.status?.phase).toBe('Running');
  });
});
