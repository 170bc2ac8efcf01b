import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod, PodStatus } from '../src/api/pod-types';
import { CgroupV1Filesystem, detectCgroupFilesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { KubeletHousekeeping } from '../src/eviction/kubelet-housekeeping';
import { type ContainerTermination, StatusManager } from '../src/status/status-manager';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { makePod } from './helpers/fixtures';

// The kubelet metrics v1.36 added (kubernetes' generated metrics list, v1.35.0 → v1.36.0 diff).

/** The value of one sample line of a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(' ')[0]);
}

function terminated(name: string, containerID: string, exitCode: number, reason: string): ContainerStatus {
  return {
    name,
    state: { terminated: { exitCode, reason, containerID } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: busybox,
    imageID: '',
    containerID,
  };
}

function running(name: string, containerID: string): ContainerStatus {
  return { ...terminated(name, containerID, 0, ''), state: { running: {} } };
}

describe('kubelet_terminated_containers_total', () => {
  let h: EngineHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('counts a container exit once, by container_type, exit_code and reason', async () => {
    h = await startEngine();
    const pod = testPod({
      restartPolicy: 'Never',
      containers: [{ name: 'crash', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
    });
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const series =
      'kubelet_terminated_containers_total{container_type="container",exit_code="139",reason="Error"}';
    expect(sample(await h.kubelet.metrics.registry.metrics(), series)).toBeUndefined();
    const [sandbox] = (await h.client.listPodSandbox({})).items;
    const [container] = (await h.client.listContainers({ filter: { podSandboxId: sandbox!.id } })).containers;
    h.fake.exitContainer(container!.id, 139, 'Error');
    await h.settleThroughRelists();
    expect(
      h.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.state.terminated?.exitCode,
    ).toBe(139);
    // Later syncs report the same termination again: it is not a new one.
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    const text = await h.kubelet.metrics.registry.metrics();
    expect(text).toContain(
      '# HELP kubelet_terminated_containers_total [ALPHA] Cumulative number of container terminations.',
    );
    expect(text).toContain('# TYPE kubelet_terminated_containers_total counter');
    expect(sample(text, series)).toBe(1);
  });

  it('StatusManager: new terminations only, labelled by the list the container is in', () => {
    const seen: ContainerTermination[] = [];
    const manager = new StatusManager({ onContainerTerminated: (t) => seen.push(t) });
    // Terminated already in the status the API shows (a kubelet restart): not counted.
    const pod: Pod = {
      ...makePod(),
      status: { phase: 'Running', initContainerStatuses: [terminated('init', 'c-init', 0, 'Completed')] },
    };
    const status = (containers: ContainerStatus[], ephemeral: ContainerStatus[] = []): PodStatus => ({
      phase: 'Running',
      initContainerStatuses: [terminated('init', 'c-init', 0, 'Completed')],
      containerStatuses: containers,
      ephemeralContainerStatuses: ephemeral,
    });
    manager.setPodStatus(pod, status([running('app', 'c1')]));
    expect(seen).toEqual([]);
    manager.setPodStatus(pod, status([terminated('app', 'c1', 137, 'OOMKilled')]));
    manager.setPodStatus(pod, status([terminated('app', 'c1', 137, 'OOMKilled')]));
    // The next run of the container terminating is a new termination; so is a debug container's.
    manager.setPodStatus(
      pod,
      status([terminated('app', 'c2', 1, 'Error')], [terminated('debug', 'c3', 0, 'Completed')]),
    );
    expect(seen).toEqual([
      { containerType: 'container', exitCode: 137, reason: 'OOMKilled' },
      { containerType: 'container', exitCode: 1, reason: 'Error' },
      { containerType: 'ephemeral_container', exitCode: 0, reason: 'Completed' },
    ]);
  });
});

describe('kubelet_memory_qos_node_memory_min_bytes / _low_bytes', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  const mi = 1024 ** 2;
  const withMemory = (uid: string, request: string, limit?: string): Pod =>
    ({
      metadata: { name: uid, namespace: 'test', uid },
      spec: {
        containers: [
          {
            name: 'c',
            image: busybox,
            resources: {
              requests: { memory: request, cpu: '1' },
              limits: limit ? { memory: limit, cpu: '1' } : undefined,
            },
          },
        ],
      },
    }) as Pod;

  async function housekeepingOn(
    policy: 'TieredReservation' | 'None',
    pods: Pod[],
    registry: Registry,
    cgroupVersion: 1 | 2 = 2,
  ) {
    root = await mkdtemp(join(tmpdir(), `na-memqos-metrics-${process.pid}-`));
    if (cgroupVersion === 2) await writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids');
    else for (const controller of ['cpu', 'memory', 'pids']) await mkdir(join(root, controller));
    const cgroups = new PodCgroupManager({
      fs: cgroupVersion === 2 ? await detectCgroupFilesystem(root) : new CgroupV1Filesystem(root),
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/',
      memoryQoS: { reservationPolicy: policy },
    });
    return new KubeletHousekeeping({
      config: parseKubeletConfiguration({}).config,
      runtime: { listPods: async () => [] } as unknown as PodRuntime,
      clock: new FakeClock(),
      logger: { info() {}, warn() {} },
      cgroups,
      activePods: () => pods,
      knownPodUids: () => pods.map((p) => p.metadata.uid!),
      evictPod: () => true,
      registry,
    });
  }

  it('TieredReservation: the Guaranteed pods’ memory.min and the Burstable pods’ memory.low, summed', async () => {
    const registry = new Registry();
    const pods = [
      withMemory('g1', '128Mi', '128Mi'),
      withMemory('g2', '64Mi', '64Mi'),
      withMemory('b1', '256Mi', '512Mi'),
      withMemory('b2', '32Mi'),
    ];
    const housekeeping = await housekeepingOn('TieredReservation', pods, registry);
    await housekeeping.start();
    await housekeeping.stop();
    const text = await registry.metrics();
    expect(text).toContain(
      '# HELP kubelet_memory_qos_node_memory_min_bytes Total cgroup v2 memory.min in bytes for Guaranteed pods. This memory is hard-reserved and never reclaimed by the kernel.',
    );
    expect(text).toContain('# TYPE kubelet_memory_qos_node_memory_low_bytes gauge');
    expect(sample(text, 'kubelet_memory_qos_node_memory_min_bytes')).toBe(192 * mi);
    expect(sample(text, 'kubelet_memory_qos_node_memory_low_bytes')).toBe(288 * mi);
  });

  it('policy None reserves nothing: both 0', async () => {
    const registry = new Registry();
    const housekeeping = await housekeepingOn('None', [withMemory('g1', '128Mi', '128Mi')], registry);
    await housekeeping.start();
    await housekeeping.stop();
    const text = await registry.metrics();
    expect(sample(text, 'kubelet_memory_qos_node_memory_min_bytes')).toBe(0);
    expect(sample(text, 'kubelet_memory_qos_node_memory_low_bytes')).toBe(0);
  });

  it('without MemoryQoS enforced (cgroup v1: the gate changes nothing) the gauges are not registered', async () => {
    const registry = new Registry();
    const housekeeping = await housekeepingOn(
      'TieredReservation',
      [withMemory('g1', '128Mi', '128Mi')],
      registry,
      1,
    );
    await housekeeping.start();
    await housekeeping.stop();
    expect(await registry.metrics()).not.toContain('kubelet_memory_qos');
  });
});
