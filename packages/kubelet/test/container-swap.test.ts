import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { detectNodeSwap, swapTotalBytes } from '../src/cgroups/node-swap';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import {
  containerSwapBehavior,
  limitedSwapBytes,
  type NodeSwapFacts,
  SwapShareError,
  withContainerSwap,
} from '../src/cri/container-swap';
import { linuxContainerResources } from '../src/cri/linux-resources';
import { InvalidConfigError } from '../src/errors';

const gi = 1024 ** 3;

function pod(resources: Container['resources'], extra: Partial<Pod['spec']> = {}, annotations = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', annotations },
    spec: { containers: [{ name: 'c', image: 'busybox', resources }], ...extra },
  } as Pod;
}
const burstable = pod({ requests: { memory: '1Gi' }, limits: { memory: '2Gi' } });
const guaranteed = pod({ requests: { memory: '1Gi', cpu: '1' }, limits: { memory: '1Gi', cpu: '1' } });
const bestEffort = pod(undefined);
const container = (p: Pod) => p.spec.containers[0]!;

// A 16 GiB node with 4 GiB of swap.
const facts = (over: Partial<NodeSwapFacts> = {}): NodeSwapFacts => ({
  behavior: 'LimitedSwap',
  cgroupVersion: 2,
  swapControllerAvailable: true,
  memoryCapacity: 16 * gi,
  swapCapacity: 4 * gi,
  ...over,
});
const resourcesOf = (p: Pod, f: NodeSwapFacts | undefined) =>
  linuxContainerResources(p, container(p), { memoryCapacity: 16 * gi, swap: f });

describe('containerSwapBehavior (upstream GetContainerSwapBehavior)', () => {
  it('gives LimitedSwap only to a Burstable container with a memory request different from its limit', () => {
    expect(containerSwapBehavior(burstable, container(burstable), facts())).toBe('LimitedSwap');
    expect(containerSwapBehavior(guaranteed, container(guaranteed), facts())).toBe('NoSwap');
    expect(containerSwapBehavior(bestEffort, container(bestEffort), facts())).toBe('NoSwap');
    // Burstable through CPU only: the container asks for no memory.
    const cpuOnly = pod({ requests: { cpu: '100m' } });
    expect(containerSwapBehavior(cpuOnly, container(cpuOnly), facts())).toBe('NoSwap');
    // Burstable pod, but this container's request equals its limit.
    const equal = pod({ requests: { memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(containerSwapBehavior(equal, container(equal), facts())).toBe('NoSwap');
  });

  it('gives critical pods (system priority, static) no swap', () => {
    const critical = pod(burstable.spec.containers[0]!.resources, { priority: 2_000_000_000 });
    expect(containerSwapBehavior(critical, container(critical), facts())).toBe('NoSwap');
    const staticPod = pod(
      burstable.spec.containers[0]!.resources,
      {},
      { 'kubernetes.io/config.source': 'file' },
    );
    expect(containerSwapBehavior(staticPod, container(staticPod), facts())).toBe('NoSwap');
  });

  it('is NoSwap for "" and NoSwap, on cgroup v1, and without a swap controller', () => {
    for (const f of [
      facts({ behavior: '' }),
      facts({ behavior: 'NoSwap' }),
      facts({ cgroupVersion: 1 }),
      facts({ swapControllerAvailable: false }),
    ])
      expect(containerSwapBehavior(burstable, container(burstable), f)).toBe('NoSwap');
  });
});

describe('limitedSwapBytes (upstream calcSwapForBurstablePods)', () => {
  it('is the request share of node memory times node swap, truncated', () => {
    expect(limitedSwapBytes(1 * gi, 16 * gi, 4 * gi)).toBe(256 * 1024 ** 2);
    expect(limitedSwapBytes(1, 3, 10)).toBe(3);
  });

  it("refuses no node memory and a request above it with upstream's words", () => {
    expect(() => limitedSwapBytes(1, 0, 10)).toThrow(new SwapShareError('total node memory is 0'));
    expect(() => limitedSwapBytes(20, 10, 10)).toThrow(
      new SwapShareError('container request 20 is larger than total node memory 10'),
    );
  });
});

describe('container swap resources per cgroup version', () => {
  it('cgroup v2 LimitedSwap: memory.swap.max holds the share', () => {
    const resources = resourcesOf(burstable, facts());
    expect(resources.unified).toEqual({ 'memory.swap.max': String(256 * 1024 ** 2) });
    expect(resources.memorySwapLimitInBytes).toBeUndefined();
  });

  it('cgroup v2 NoSwap (and "" and non-Burstable): memory.swap.max 0', () => {
    expect(resourcesOf(burstable, facts({ behavior: 'NoSwap' })).unified).toEqual({ 'memory.swap.max': '0' });
    expect(resourcesOf(burstable, facts({ behavior: '' })).unified).toEqual({ 'memory.swap.max': '0' });
    expect(resourcesOf(guaranteed, facts()).unified).toEqual({ 'memory.swap.max': '0' });
  });

  it('cgroup v1 with the memsw controller: memory+swap equals the memory limit, never unified', () => {
    for (const behavior of ['', 'NoSwap', 'LimitedSwap'] as const) {
      const resources = resourcesOf(burstable, facts({ cgroupVersion: 1, behavior }));
      expect(resources.memorySwapLimitInBytes).toBe(2 * gi);
      expect(resources.unified).toBeUndefined();
    }
    // No memory limit: 0, which leaves both unlimited, as upstream.
    expect(resourcesOf(bestEffort, facts({ cgroupVersion: 1 })).memorySwapLimitInBytes).toBe(0);
  });

  it('no swap controller (either version): no swap field at all', () => {
    for (const cgroupVersion of [1, 2] as const) {
      const resources = resourcesOf(burstable, facts({ cgroupVersion, swapControllerAvailable: false }));
      expect(resources.memorySwapLimitInBytes).toBeUndefined();
      expect(resources.unified).toBeUndefined();
    }
    // And no facts at all (callers that know nothing of the node) leave resources as before.
    expect(resourcesOf(burstable, undefined)).not.toHaveProperty('unified');
  });

  it('a share that cannot be computed falls back to NoSwap and is reported', () => {
    const errors: SwapShareError[] = [];
    const huge = pod({ requests: { memory: '32Gi' }, limits: { memory: '64Gi' } });
    const resources = withContainerSwap(
      { memoryLimitInBytes: 64 * gi },
      huge,
      container(huge),
      facts(),
      (e) => errors.push(e),
    );
    expect(resources.unified).toEqual({ 'memory.swap.max': '0' });
    expect(errors.map((e) => e.message)).toEqual([
      `container request ${32 * gi} is larger than total node memory ${16 * gi}`,
    ]);
  });

  it('keeps unified entries already set', () => {
    const resources = withContainerSwap(
      { unified: { 'memory.oom.group': '1' } },
      guaranteed,
      container(guaranteed),
      facts(),
    );
    expect(resources.unified).toEqual({ 'memory.oom.group': '1', 'memory.swap.max': '0' });
  });
});

describe('memorySwap.swapBehavior validation', () => {
  it("accepts the three values and refuses others with upstream's message", () => {
    for (const swapBehavior of ['', 'NoSwap', 'LimitedSwap'])
      expect(parseKubeletConfiguration({ memorySwap: { swapBehavior } }).config.memorySwap.swapBehavior).toBe(
        swapBehavior,
      );
    let error: unknown;
    try {
      parseKubeletConfiguration({ memorySwap: { swapBehavior: 'UnlimitedSwap' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({
      field: 'memorySwap.swapBehavior',
      value: 'UnlimitedSwap',
      reason: 'must be one of: "", "LimitedSwap" or "NoSwap"',
    });
  });
});

describe('detectNodeSwap', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const meminfo = 'MemTotal:       16384000 kB\nSwapTotal:       4194304 kB\nSwapFree:        4194304 kB\n';

  it('reads SwapTotal in bytes, 0 when absent', () => {
    expect(swapTotalBytes(meminfo)).toBe(4 * gi);
    expect(swapTotalBytes('MemTotal: 1 kB\n')).toBe(0);
  });

  it('cgroup v1: the controller is memory.memsw.limit_in_bytes in the memory hierarchy', async () => {
    const root = await mkdtemp(join(tmpdir(), 'node-swap-v1-'));
    dirs.push(root);
    const readMeminfo = async () => meminfo;
    expect(await detectNodeSwap(1, { mountRoot: root, readMeminfo })).toEqual({
      cgroupVersion: 1,
      swapControllerAvailable: false,
      swapCapacity: 4 * gi,
    });
    await mkdir(join(root, 'memory'));
    await writeFile(join(root, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712\n');
    expect((await detectNodeSwap(1, { mountRoot: root, readMeminfo })).swapControllerAvailable).toBe(true);
  });

  it("cgroup v2: the controller is memory.swap.max in the kubelet's own cgroup", async () => {
    const root = await mkdtemp(join(tmpdir(), 'node-swap-v2-'));
    dirs.push(root);
    const sources = {
      mountRoot: root,
      readMeminfo: async () => 'SwapTotal: 0 kB\n',
      readSelfCgroup: async () => '0::/system.slice/kubelet.service\n',
    };
    // The root has none (as on a real host); the kubelet's cgroup decides.
    await writeFile(join(root, 'cgroup.controllers'), 'memory\n');
    expect((await detectNodeSwap(2, sources)).swapControllerAvailable).toBe(false);
    await mkdir(join(root, 'system.slice', 'kubelet.service'), { recursive: true });
    await writeFile(join(root, 'system.slice', 'kubelet.service', 'memory.swap.max'), 'max\n');
    expect(await detectNodeSwap(2, sources)).toEqual({
      cgroupVersion: 2,
      swapControllerAvailable: true,
      swapCapacity: 0,
    });
  });
});
