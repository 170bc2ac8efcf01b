import { FakeRuntime } from '@nodeagent/cri-client/testing';
import type { PodRuntime } from '@nodeagent/kubelet';
import { imagePullConcurrency, limitImagePulls } from '@nodeagent/kubelet/images';
import type { MachineInfo } from '@nodeagent/node-status';
import { klogLine } from '@nodeagent/primitives/klog';
import { afterAll, describe, expect, it } from 'vitest';
import { connectCri } from '../src/image-service-client';
import {
  localNodeAllocatable,
  nodeRegistrationSettings,
  podCapacity,
  uninitializedTaint,
} from '../src/node-registration-settings';
import { enforcePodsAllocatable, podsCgroupResources } from '../src/pods-allocatable-cgroup';
import {
  activeSwaps,
  applyOomScoreAdj,
  checkCgroupVersion,
  checkSingleProcessOOMKill,
  checkSwap,
  possibleMemoryBackedVolumesOnDisk,
  StartupRefusedError,
  tmpfsNoswapSupported,
} from '../src/startup-checks';
import { upstreamKubeletDefaults } from './upstream-kubelet-defaults';

const procSwapsHeader = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

describe('host checks at start', () => {
  it('refuses to start while swap is on when failSwapOn, with upstream message', async () => {
    const withSwap = `${procSwapsHeader}/dev/dm-1  partition\t16760828\t0\t-2\n`;
    expect(activeSwaps(withSwap)).toEqual(['/dev/dm-1  partition\t16760828\t0\t-2']);
    const error = await checkSwap(true, async () => withSwap).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupRefusedError);
    expect((error as StartupRefusedError).code).toBe('STARTUP_REFUSED');
    expect((error as StartupRefusedError).field).toBe('failSwapOn');
    expect((error as StartupRefusedError).message).toContain(
      'running with swap on is not supported, please disable swap or set --fail-swap-on flag to false',
    );
    await expect(checkSwap(false, async () => withSwap)).resolves.toBe(true);
    await expect(checkSwap(true, async () => procSwapsHeader)).resolves.toBe(false);
    await expect(
      checkSwap(true, async () => {
        throw new Error('ENOENT');
      }),
    ).resolves.toBe(false);
  });

  it('takes tmpfs noswap as supported from kernel 6.4 on (swap on with older kernels warns on the Node)', () => {
    expect(tmpfsNoswapSupported('6.4.0')).toBe(true);
    expect(tmpfsNoswapSupported('6.18.44-fc-v669')).toBe(true);
    expect(tmpfsNoswapSupported('7.0.1')).toBe(true);
    expect(tmpfsNoswapSupported('6.3.13-generic')).toBe(false);
    expect(tmpfsNoswapSupported('5.15.0-91-generic')).toBe(false);
    expect(tmpfsNoswapSupported('garbage')).toBe(false);
    expect(possibleMemoryBackedVolumesOnDisk.message).toBe(
      'The tmpfs noswap option is not supported. Memory-backed volumes (e.g. secrets, emptyDirs, etc.) might be swapped to disk and should no longer be considered secure.',
    );
  });

  it('refuses cgroup v1 only when failCgroupV1', () => {
    expect(() => checkCgroupVersion(true, 1)).toThrow(StartupRefusedError);
    // Upstream v1.35+'s line, as its cli.Run prints the configuration validation error.
    expect(() => checkCgroupVersion(true, 1)).toThrow(
      'failed to validate kubelet configuration, error: kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release, path: &TypeMeta{Kind:,APIVersion:,}',
    );
    expect(() => checkCgroupVersion(false, 1)).not.toThrow();
    expect(() => checkCgroupVersion(true, 2)).not.toThrow();
  });

  it('refuses singleProcessOOMKill: false on cgroup v1 only, in upstream validation words', () => {
    expect(() => checkSingleProcessOOMKill(false, 1)).toThrow(
      'failed to validate kubelet configuration, error: invalid configuration: singleProcessOOMKill must not be explicitly set to false when using cgroup v1, path: &TypeMeta{Kind:,APIVersion:,}',
    );
    expect(() => checkSingleProcessOOMKill(undefined, 1)).not.toThrow();
    expect(() => checkSingleProcessOOMKill(true, 1)).not.toThrow();
    expect(() => checkSingleProcessOOMKill(false, 2)).not.toThrow();
  });

  it("writes oomScoreAdj to the process's score and only warns when it cannot", async () => {
    const written: string[] = [];
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (_: object, msg?: string) => warnings.push(msg ?? '') };
    await applyOomScoreAdj(-999, logger, async (text) => {
      written.push(text);
    });
    expect(written).toEqual(['-999']);
    await applyOomScoreAdj(-999, logger, async () => {
      throw new Error('EACCES');
    });
    expect(warnings).toEqual(['Failed to ApplyOOMScoreAdj']);
  });
});

describe('image pulls', () => {
  it('takes its concurrency from serializeImagePulls and maxParallelImagePulls', () => {
    expect(imagePullConcurrency({ serializeImagePulls: true, maxParallelImagePulls: undefined })).toBe(1);
    expect(imagePullConcurrency({ serializeImagePulls: false, maxParallelImagePulls: 3 })).toBe(3);
    expect(imagePullConcurrency({ serializeImagePulls: false, maxParallelImagePulls: undefined })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  /** A runtime whose pulls finish only when released, counting how many run at once. */
  function gatedRuntime() {
    const gates: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const runtime = {
      pullImage: async (image: string) => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return `sha256:${image}`;
      },
    } as unknown as PodRuntime;
    return { runtime, gates, most: () => most };
  }

  async function pullFive(concurrency: number) {
    const gated = gatedRuntime();
    const limited = limitImagePulls(gated.runtime, concurrency);
    const pulls = ['a', 'b', 'c', 'd', 'e'].map((image) => limited.pullImage(image, undefined, {}));
    // Release pulls one at a time until all are done; each release lets a queued one start.
    let done = false;
    const all = Promise.all(pulls).finally(() => {
      done = true;
    });
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      gated.gates.shift()?.();
    }
    return { refs: await all, most: gated.most() };
  }

  it('runs one pull at a time when serialized, at most maxParallelImagePulls otherwise', async () => {
    const serialized = await pullFive(1);
    expect(serialized.refs).toEqual(['sha256:a', 'sha256:b', 'sha256:c', 'sha256:d', 'sha256:e']);
    expect(serialized.most).toBe(1);
    expect((await pullFive(2)).most).toBe(2);
    expect((await pullFive(Number.POSITIVE_INFINITY)).most).toBe(5);
  });
});

describe('imageServiceEndpoint', () => {
  const fakes: FakeRuntime[] = [];
  afterAll(async () => {
    for (const fake of fakes) await fake.stop();
  });

  it('sends image calls to the image service socket and runtime calls to the runtime socket', async () => {
    const runtimeFake = await FakeRuntime.start({ images: [{ ref: 'example.test/runtime-side:1' }] });
    fakes.push(runtimeFake);
    const imageFake = await FakeRuntime.start({ images: [{ ref: 'example.test/image-side:1' }] });
    fakes.push(imageFake);
    const client = await connectCri({
      containerRuntimeEndpoint: runtimeFake.endpoint,
      imageServiceEndpoint: imageFake.endpoint,
      runtimeRequestTimeout: '2m0s',
    });
    try {
      const images = await client.listImages({});
      expect(images.images.flatMap((image) => image.repoTags)).toEqual(['example.test/image-side:1']);
      const status = (image: string) => client.imageStatus({ image: { image } });
      expect((await status('example.test/image-side:1')).image).toBeDefined();
      expect((await status('example.test/runtime-side:1')).image ?? undefined).toBeUndefined();
      // The runtime socket holds the other image: a client of its own alone finds it.
      const direct = await connectCri({
        containerRuntimeEndpoint: runtimeFake.endpoint,
        imageServiceEndpoint: '',
        runtimeRequestTimeout: '2m0s',
      });
      expect(
        (await direct.imageStatus({ image: { image: 'example.test/runtime-side:1' } })).image,
      ).toBeDefined();
      direct.close();
      expect((await client.version({})).runtimeApiVersion).toBe('v1');
    } finally {
      client.close();
    }
  });
});

describe('node registration settings', () => {
  const defaults = upstreamKubeletDefaults as never;

  it('caps pods at podsPerCore × cores when podsPerCore is set', () => {
    expect(podCapacity({ maxPods: 110, podsPerCore: 0 }, 2)).toBe(110);
    expect(podCapacity({ maxPods: 110, podsPerCore: 10 }, 2)).toBe(20);
    expect(podCapacity({ maxPods: 15, podsPerCore: 10 }, 2)).toBe(15);
  });

  it('passes reserved resources and providerID, and adds the uninitialized taint for an external cloud provider', () => {
    const config = {
      ...(defaults as object),
      kubeReserved: { cpu: '100m' },
      systemReserved: { memory: '1Gi' },
      providerID: 'external://n1',
      registerWithTaints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }],
    } as never;
    const settings = nodeRegistrationSettings(config, { cloudProvider: 'external' });
    expect(settings.kubeReserved).toEqual({ cpu: '100m' });
    expect(settings.systemReserved).toEqual({ memory: '1Gi' });
    expect(settings.providerID).toBe('external://n1');
    expect(settings.registerWithTaints).toEqual([
      { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
      uninitializedTaint,
    ]);
    expect(nodeRegistrationSettings(config, { cloudProvider: '' }).registerWithTaints).toHaveLength(1);
  });

  it('leaves ephemeral-storage out of the local allocatable with localStorageCapacityIsolation false', async () => {
    const machine = async () =>
      ({ numCores: 2, memoryCapacityBytes: 4 * 2 ** 30, ephemeralStorageBytes: 10 * 2 ** 30 }) as MachineInfo;
    const flags = { cloudProvider: '' as const, rootDir: '/var/lib/kubelet' };
    const off = { ...(defaults as object), localStorageCapacityIsolation: false } as never;
    expect(nodeRegistrationSettings(off, flags).localStorageCapacityIsolation).toBe(false);
    expect(await localNodeAllocatable(off, flags, machine)).not.toHaveProperty('ephemeral-storage');
    expect(await localNodeAllocatable(defaults, flags, machine)).toHaveProperty('ephemeral-storage');
  });
});

describe('text log format', () => {
  it('prints a pino record as a klog line', () => {
    // Local time, as klog prints.
    const time = new Date(2026, 10, 22, 19, 54, 0, 123).getTime();
    expect(
      klogLine(
        { level: 40, time, msg: 'kubelet started', component: 'kubelet', nodeName: 'n1', ips: ['10.0.0.1'] },
        { pid: 4242 },
      ),
    ).toBe('W1122 19:54:00.123000    4242 kubelet] "kubelet started" nodeName="n1" ips=["10.0.0.1"]');
    expect(klogLine({ level: 30, time, msg: 'ok' }, { pid: 1, source: 'kubelet' })).toMatch(
      /^I1122 19:54:00\.123000 {7}1 kubelet\] "ok"$/,
    );
    expect(klogLine({ level: 50, time, msg: 'bad' }, { pid: 1 })).toMatch(/^E1122/);
  });
});

describe('enforceNodeAllocatable pods', () => {
  const machine = { numCores: 4, memoryCapacityBytes: 8 * 2 ** 30 };
  const reserved = {
    kubeReserved: { cpu: '500m', memory: '1Gi' },
    systemReserved: { cpu: '500m', memory: '512Mi' },
  };

  it('limits kubepods to capacity minus kube and system reservations (shares for CPU)', () => {
    expect(podsCgroupResources(machine, reserved)).toEqual({
      cpuShares: 3072, // 3000m of 4 cores: 3000 * 1024 / 1000
      memoryLimitBytes: 8 * 2 ** 30 - 1.5 * 2 ** 30,
    });
    expect(podsCgroupResources(machine, { kubeReserved: {}, systemReserved: {} })).toEqual({
      cpuShares: 4096,
      memoryLimitBytes: 8 * 2 ** 30,
    });
  });

  it('writes the kubepods cgroup only with pods enforcement and the QoS hierarchy', async () => {
    const ensured: [string, unknown][] = [];
    const fs = {
      ensure: async (path: string, resources: unknown) => void ensured.push([path, resources]),
    } as never;
    const config = {
      ...reserved,
      enforceNodeAllocatable: ['pods' as const],
      cgroupsPerQOS: true,
      cgroupRoot: '',
      cgroupDriver: 'systemd' as const,
    };
    await enforcePodsAllocatable(config, { fs, machine });
    expect(ensured).toEqual([['/kubepods.slice', podsCgroupResources(machine, reserved)]]);
    await enforcePodsAllocatable({ ...config, cgroupDriver: 'cgroupfs' }, { fs, machine });
    expect(ensured[1]?.[0]).toBe('/kubepods');
    await enforcePodsAllocatable({ ...config, cgroupsPerQOS: false }, { fs, machine });
    await enforcePodsAllocatable({ ...config, enforceNodeAllocatable: ['none' as const] }, { fs, machine });
    expect(ensured).toHaveLength(2);
  });
});
