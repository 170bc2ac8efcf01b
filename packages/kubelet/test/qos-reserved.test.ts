import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { type CgroupFilesystem, CgroupV1Filesystem } from '../src/cgroups/cgroup-filesystem';
import type { CgroupResources } from '../src/cgroups/cgroup-resources';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { qosMemoryLimits } from '../src/cgroups/qos-memory-reserve';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { parseQOSReserved } from '../src/config/qos-reserved';

const mi = 1024 ** 2;

function pod(uid: string, resources: Container['resources']): Pod {
  return {
    metadata: { name: uid, namespace: 'test', uid },
    spec: { containers: [{ name: 'c', image: 'busybox', resources }] },
  } as Pod;
}

// Upstream qos_container_manager_linux_test.go's pods: Guaranteed 128Mi, Burstable 128Mi and 256Mi requests.
const active = [
  pod('g', { requests: { memory: '128Mi', cpu: '1' }, limits: { memory: '128Mi', cpu: '1' } }),
  pod('b1', { requests: { memory: '128Mi', cpu: '1' }, limits: { memory: '256Mi', cpu: '2' } }),
  pod('b2', { requests: { memory: '256Mi', cpu: '2' } }),
  pod('be', undefined),
];

describe("qosReserved (upstream's ParseQOSReserved)", () => {
  it('takes memory as a whole percentage from 0 to 100', () => {
    expect(parseQOSReserved({})).toEqual({});
    expect(parseQOSReserved({ memory: '50%' })).toEqual({ memoryPercent: 50 });
    expect(parseQOSReserved({ memory: '0%' })).toEqual({ memoryPercent: 0 });
    expect(parseQOSReserved({ memory: '100%' })).toEqual({ memoryPercent: 100 });
  });

  it("refuses anything else with upstream's reasons", () => {
    expect(parseQOSReserved({ memory: '50' })).toEqual({ error: 'percentage must end with %' });
    expect(parseQOSReserved({ memory: 'half%' })).toEqual({ error: 'invalid number' });
    expect(parseQOSReserved({ memory: '1.5%' })).toEqual({ error: 'invalid number' });
    expect(parseQOSReserved({ memory: '101%' })).toEqual({ error: 'percentage must be between 0 and 100' });
    expect(parseQOSReserved({ cpu: '50%' })).toEqual({ error: 'cannot reserve "cpu" resource' });
  });

  it('stops the start with the flag named, gate or no gate', () => {
    expect(() => parseKubeletConfiguration({ qosReserved: { memory: '50' } })).toThrow(
      '--qos-reserved value failed to parse: percentage must end with %',
    );
    expect(parseKubeletConfiguration({ qosReserved: { memory: '50%' } }).config.qosReserved).toEqual({
      memory: '50%',
    });
  });
});

describe("the QoS tiers' memory limits (upstream setMemoryReserve)", () => {
  it('burstable: allocatable less the share of Guaranteed requests; besteffort: that less the share of Burstable requests', () => {
    expect(qosMemoryLimits(active, { percent: 50, allocatableBytes: 2048 * mi })).toEqual({
      burstable: 2048 * mi - 64 * mi,
      besteffort: 2048 * mi - 64 * mi - 192 * mi,
    });
    expect(qosMemoryLimits(active, { percent: 0, allocatableBytes: 2048 * mi })).toEqual({
      burstable: 2048 * mi,
      besteffort: 2048 * mi,
    });
  });

  it('sets none when allocatable is 0 (upstream: standalone mode)', () => {
    expect(qosMemoryLimits(active, { percent: 50, allocatableBytes: 0 })).toBeUndefined();
  });
});

/** A started PodCgroupManager on `fs` reserving 100% of the higher classes' requests from 1 GiB. */
async function reservingManager(fs: CgroupFilesystem): Promise<PodCgroupManager> {
  const manager = new PodCgroupManager({
    fs,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: '/',
    qosMemoryReserve: { percent: 100, allocatableBytes: 1024 * mi },
  });
  await manager.start();
  return manager;
}

describe('PodCgroupManager with qosMemoryReserve (cgroup v1)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `na-qosreserved-${process.pid}-`));
    for (const controller of ['cpu', 'memory', 'pids']) await mkdir(join(root, controller));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes the burstable and besteffort memory limits, and follows the active pods', async () => {
    const fs = new CgroupV1Filesystem(root);
    const manager = await reservingManager(fs);
    await manager.updateQOSCgroups(active);
    expect(await fs.read('/kubepods/burstable', 'memory.limit_in_bytes')).toBe(String(896 * mi));
    expect(await fs.read('/kubepods/besteffort', 'memory.limit_in_bytes')).toBe(String(512 * mi));
    await manager.updateQOSCgroups(active.slice(2));
    expect(await fs.read('/kubepods/burstable', 'memory.limit_in_bytes')).toBe(String(1024 * mi));
    expect(await fs.read('/kubepods/besteffort', 'memory.limit_in_bytes')).toBe(String(768 * mi));
  });

  it('without it the tiers get no memory limit', async () => {
    const fs = new CgroupV1Filesystem(root);
    const manager = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot: '/' });
    await manager.start();
    await manager.updateQOSCgroups(active);
    await expect(fs.read('/kubepods/burstable', 'memory.limit_in_bytes')).rejects.toThrow();
  });

  it('holds a tier at its usage when the kernel refuses a limit below it (upstream retrySetMemoryReserve)', async () => {
    const real = new CgroupV1Filesystem(root);
    const usage: Record<string, number> = {
      '/kubepods/burstable': 950 * mi,
      '/kubepods/besteffort': 100 * mi,
    };
    // As cgroup v1's memory.limit_in_bytes: a write below the usage fails with EBUSY.
    const fs: CgroupFilesystem = {
      version: 1,
      exists: (path) => real.exists(path),
      children: (path) => real.children(path),
      remove: (path) => real.remove(path),
      read: async (path, file) =>
        file === 'memory.usage_in_bytes' ? String(usage[path] ?? 0) : real.read(path, file),
      ensure: async (path: string, resources?: CgroupResources) => {
        const limit = resources?.memoryLimitBytes;
        if (limit !== undefined && limit < (usage[path] ?? 0))
          throw Object.assign(new Error('EBUSY: device or resource busy, write'), { code: 'EBUSY' });
        await real.ensure(path, resources);
      },
    };
    const manager = await reservingManager(fs);
    await manager.updateQOSCgroups(active);
    expect(await real.read('/kubepods/burstable', 'memory.limit_in_bytes')).toBe(String(950 * mi));
    expect(await real.read('/kubepods/besteffort', 'memory.limit_in_bytes')).toBe(String(512 * mi));
  });
});
