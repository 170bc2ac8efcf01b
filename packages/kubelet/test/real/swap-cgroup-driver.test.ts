/**
 * Swap settings and the cgroup driver against a real containerd 1.6 on this host (cgroup v1
 * with the memsw controller): RuntimeConfig is Unimplemented there, so the configured driver
 * stands (upstream's fallback); a container's CRI resources carry memory+swap equal to its memory
 * limit (NoSwap on v1), and containerd's OCI spec and the container's own cgroup hold that value.
 */
import { type CriClient, isUnimplemented } from '@nodeagent/cri-client';
import type { CreateContainerRequest, MessageInput } from '@nodeagent/cri-client/types';
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

let node: NodeHarness;
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
  node = await startNodeHarness({ kubelet: { nodeSwap }, criClient: recording });
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

describe('on containerd 1.6', () => {
  it('RuntimeConfig is Unimplemented and the configured cgroup driver stands, logged as upstream', async () => {
    const error = await node.client.runtimeConfig().catch((e: unknown) => e);
    expect(isUnimplemented(error)).toBe(true);
    expect(String(error)).toContain('unknown method RuntimeConfig');
    const lines: string[] = [];
    const log = (_: object, message?: string) => lines.push(message ?? '');
    const logger = { info: log, warn: log, error: log };
    for (const configured of ['cgroupfs', 'systemd'] as const)
      expect(await cgroupDriverFromRuntime(node.client, configured, { logger })).toBe(configured);
    expect(lines).toEqual([
      'RuntimeConfig from runtime service failed',
      runtimeConfigUnimplementedMessage,
      'RuntimeConfig from runtime service failed',
      runtimeConfigUnimplementedMessage,
    ]);
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
    });
    expect(request?.config?.linux?.resources?.unified ?? {}).toEqual({});
    // What containerd made of it: the OCI spec it keeps, and the container's cgroup.
    const id = pod.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const status = await node.client.containerStatus({ containerId: id, verbose: true });
    const spec = JSON.parse(status.info.info ?? '{}').runtimeSpec;
    expect(spec.linux.resources.memory).toMatchObject({ limit, swap: limit });
    const memsw = await node.exec('swap-limited', 'c', [
      'cat',
      '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes',
    ]);
    expect(Number(memsw.trim())).toBe(limit);
  }, 120_000);
});
