/**
 * Swap settings and the cgroup driver against a real containerd on this host (cgroup v1 with the
 * memsw controller). The cgroup driver as upstream's kubelet takes it: containerd 1.6 answers
 * RuntimeConfig Unimplemented, so the configured driver stands (upstream's fallback); 2.1 answers
 * it with its own driver (cgroupfs, as tools/containerd configures it), which replaces the
 * configured one. A container's CRI resources carry memory+swap equal to its memory limit (NoSwap
 * on v1), and containerd's OCI spec and the container's own cgroup hold that value.
 */
import { type CriClient, isUnimplemented } from '@nodeagent/cri-client';
import { CgroupDriver, type CreateContainerRequest, type MessageInput } from '@nodeagent/cri-client/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { detectCgroupFilesystem } from '../../src/cgroups/cgroup-filesystem';
import { detectNodeSwap } from '../../src/cgroups/node-swap';
import type { NodeSwapFacts } from '../../src/cri/container-swap';
import {
  cgroupDriverFromRuntime,
  runtimeConfigUnimplementedMessage,
} from '../../src/cri/runtime-cgroup-driver';
import { type NodeHarness, startNodeHarness } from './node-harness';
import { type ContainerdSeries, containerdSeries } from './runtime-series';

let node: NodeHarness;
let series: ContainerdSeries;
let nodeSwap: Omit<NodeSwapFacts, 'behavior' | 'memoryCapacity'>;
// Every CreateContainer request the kubelet sent to containerd.
const created: MessageInput<CreateContainerRequest>[] = [];

/** The client with CreateContainer recorded on the way through. */
function recording(client: CriClient): CriClient {
  const wrapper = Object.create(client) as CriClient;
  wrapper.createContainer = (req, opts) => {
    created.push(req);
    return client.createContainer(req, opts);
  };
  return wrapper;
}

beforeAll(async () => {
  nodeSwap = await detectNodeSwap((await detectCgroupFilesystem()).version);
  node = await startNodeHarness({ kubelet: { node: { swap: nodeSwap } }, criClient: recording });
  series = await containerdSeries(node.client);
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

/** What cgroupDriverFromRuntime logged, message by message, for each configured driver in turn. */
async function driversFromRuntime() {
  const lines: string[] = [];
  const log = (_: object, message?: string) => lines.push(message ?? '');
  const logger = { info: log, warn: log, error: log };
  const drivers: string[] = [];
  for (const configured of ['cgroupfs', 'systemd'] as const)
    drivers.push(await cgroupDriverFromRuntime(node.client, configured, { logger }));
  return { drivers, lines };
}

describe('on a real containerd', () => {
  it("the cgroup driver: the configured one on 1.6 (RuntimeConfig Unimplemented), the runtime's on 2.1, logged as upstream", async () => {
    if (series === '1.6') {
      const error = await node.client.runtimeConfig().catch((e: unknown) => e);
      expect(isUnimplemented(error)).toBe(true);
      expect(String(error)).toContain('unknown method RuntimeConfig');
      expect(await driversFromRuntime()).toEqual({
        drivers: ['cgroupfs', 'systemd'],
        lines: [
          'RuntimeConfig from runtime service failed',
          runtimeConfigUnimplementedMessage,
          'RuntimeConfig from runtime service failed',
          runtimeConfigUnimplementedMessage,
        ],
      });
    } else {
      expect(await node.client.runtimeConfig()).toEqual({ linux: { cgroupDriver: CgroupDriver.CGROUPFS } });
      expect(await driversFromRuntime()).toEqual({
        drivers: ['cgroupfs', 'cgroupfs'],
        lines: [
          'Using cgroup driver setting received from the CRI runtime',
          'Using cgroup driver setting received from the CRI runtime',
        ],
      });
    }
  });

  it('a Burstable container gets memory+swap = its memory limit (NoSwap on cgroup v1 with memsw)', async () => {
    // What this host is: the assertions below are for cgroup v1 with swap accounting.
    expect(nodeSwap).toMatchObject({ cgroupVersion: 1, swapControllerAvailable: true });
    const limit = 64 * 1024 ** 2;
    node.createPod({
      metadata: { name: 'swap-limited', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: node.busybox,
            command: ['sleep', '3600'],
            resources: { requests: { memory: '32Mi' }, limits: { memory: '64Mi' } },
          },
        ],
      },
    } as Pod);
    const pod = await node.waitPod('swap-limited', 'running', (p) =>
      p.status?.containerStatuses?.[0]?.state?.running ? p : undefined,
    );
    // The request as the kubelet sent it.
    const request = created.find((req) => req.config?.metadata?.name === 'c');
    expect(request?.config?.linux?.resources).toMatchObject({
      memoryLimitInBytes: limit,
      memorySwapLimitInBytes: limit,
      // No CPU limit: upstream still sends the CFS period (cpuCFSQuota on), quota 0.
      cpuPeriod: 100_000,
      cpuQuota: 0,
    });
    expect(request?.config?.linux?.resources?.unified ?? {}).toEqual({});
    // What containerd made of it: the OCI spec it keeps, and the container's cgroup.
    const id = pod.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const status = await node.client.containerStatus({ containerId: id, verbose: true });
    const spec = JSON.parse(status.info.info ?? '{}').runtimeSpec;
    expect(spec.linux.resources.memory).toMatchObject({ limit, swap: limit });
    expect(spec.linux.resources.cpu.period).toBe(100_000);
    const memsw = await node.exec('swap-limited', 'c', [
      'cat',
      '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes',
    ]);
    expect(Number(memsw.trim())).toBe(limit);
  }, 120_000);
});
