/**
 * Resize latency on a real containerd (tools/containerd, cgroupsPerQOS with a private
 * cgroupRoot), beside its CRI floor in the same run: a Guaranteed pod's CPU resized up and down
 * through the in-process API server's pods/resize (what `kubectl patch --subresource resize`
 * sends), PATCH → the stored pod settled (allocatedResources and containerStatuses[0].resources
 * as asked, no PodResize* condition, observedGeneration = generation); the floor is the raw CRI
 * UpdateContainerResources of the same container with the same values. Upstream v1.36.3 settles
 * in 0.12–0.13 s on this machine (fidelity/resize-v1.36 in the repository).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCriClient } from '@nodeagent/cri-client';
import { coreV1Requests } from '@nodeagent/informer';
import { startApiServer } from '@nodeagent/testing';
import { linuxContainerResources } from '../src/cri/linux-resources';
import type { Pod } from '../src/entries/api';
import { detectCgroupFilesystem, PodCgroupManager } from '../src/entries/cgroups';
import {
  ApiPodSource,
  apiPodStatusWriter,
  criPodRuntime,
  Kubelet,
  parseKubeletConfiguration,
} from '../src/index';
import { benchNode, benchNodeName, startContainerd } from './bench-node';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

export async function resizeLatencyOnContainerd(rounds = 10): Promise<Record<string, unknown>> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root for tools/containerd and cgroups' };
  const containerd = await startContainerd();
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), `na-resize-bench-${process.pid}-`));
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const fs = await detectCgroupFilesystem();
  const cgroupRoot = `/na-resize-bench-${process.pid}`;
  const core = coreV1Requests(api.kubeConfig());
  // The node's allocatable: the kubelet's admission and the API server's resize admission (the
  // Node written below) check against the same figures.
  const allocatable = { cpu: '2', memory: '4Gi', pods: '110' };
  const kubelet = new Kubelet({
    node: { ...benchNode(join(dir, 'root')), allocatable: { ...allocatable } },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    api: {
      statusWriter: apiPodStatusWriter(core),
    },
    cgroups: new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot }),
  });
  await kubelet.start();
  const source = new ApiPodSource(api.kubeConfig(), benchNodeName, {
    add: (pod) => kubelet.addPod(pod),
    update: (pod) => kubelet.updatePod(pod),
    remove: (pod) => kubelet.removePod(pod),
  });
  await source.start();
  const pods = api.resource('v1', 'pods');
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    metadata: { name: benchNodeName },
    status: { capacity: allocatable, allocatable },
  });
  const get = () => api.registry.find(pods, 'default', 'resize-bench') as unknown as Pod | undefined;
  const wait = async (check: (pod: Pod) => boolean, what: string) => {
    const deadline = performance.now() + 60_000;
    for (;;) {
      const pod = get();
      if (pod && check(pod)) return;
      if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const resources = (cpu: string) => ({ requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } });
  try {
    api.registry.create(pods, 'default', {
      metadata: { name: 'resize-bench', namespace: 'default' },
      spec: {
        nodeName: benchNodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: containerd.images.busybox.name,
            command: ['sh', '-c', 'sleep 3600'],
            resources: resources('200m'),
          },
        ],
      },
    });
    await wait((pod) => pod.status?.containerStatuses?.[0]?.state.running !== undefined, 'running');
    const kubeletMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const cpu = i % 2 === 0 ? '300m' : '200m';
      const sent = performance.now();
      api.registry.patch(
        pods,
        'default',
        'resize-bench',
        'application/strategic-merge-patch+json',
        JSON.stringify({ spec: { containers: [{ name: 'c', resources: resources(cpu) }] } }),
        'resize',
      );
      await wait((pod) => {
        const c = pod.status?.containerStatuses?.[0];
        return (
          c?.allocatedResources?.cpu === cpu &&
          c.resources?.limits?.cpu === cpu &&
          !(pod.status?.conditions ?? []).some((x) => x.type.startsWith('PodResize')) &&
          pod.status?.observedGeneration === pod.metadata.generation
        );
      }, `settled at ${cpu}`);
      kubeletMs.push(performance.now() - sent);
      // The floor: the same update straight through CRI.
      const pod = get()!;
      const id = pod.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
      const linux = linuxContainerResources(
        pod,
        { ...pod.spec.containers[0]!, resources: resources(cpu) },
        {
          memoryCapacity: 4e9,
        },
      );
      const floorStart = performance.now();
      await client.updateContainerResources({
        containerId: id,
        linux: linux as never,
        windows: null,
        annotations: {},
      });
      floorMs.push(performance.now() - floorStart);
    }
    return {
      rounds,
      resize: 'Guaranteed pod, cpu 200m <-> 300m through pods/resize',
      kubeletSettledMedianMs: Math.round(median(kubeletMs)),
      kubeletSettledMaxMs: Math.round(Math.max(...kubeletMs)),
      criFloorUpdateContainerResourcesMedianMs: +median(floorMs).toFixed(1),
      upstreamSettledS: '0.12–0.13 (resize-v1.36, polled every ~0.1 s)',
    };
  } finally {
    api.registry.delete(pods, 'default', 'resize-bench', { gracePeriodSeconds: 0 });
    await source.stop();
    for (const p of kubelet.getPods()) kubelet.removePod(p);
    await kubelet.settle().catch(() => undefined);
    await kubelet.stop();
    client.close();
    await api.close();
    await containerd.stop();
    await fs.remove(cgroupRoot).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
