import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import {
  CgroupV1Filesystem,
  CgroupV2Filesystem,
  detectCgroupFilesystem,
} from '../src/cgroups/cgroup-filesystem';
import {
  cgroupfsName,
  parseCgroupRoot,
  parseRuntimeCgroupName,
  runtimeCgroupName,
  systemdFilesystemPath,
  systemdSliceName,
} from '../src/cgroups/cgroup-name';
import { cpuSharesToWeight } from '../src/cgroups/cgroup-resources';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { podCgroupRuntime } from '../src/cgroups/pod-cgroup-runtime';
import { podResourceConfig } from '../src/cgroups/pod-resource-config';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { InvalidConfigError } from '../src/errors';
import { makePod } from './helpers/fixtures';

const uid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

function pod(
  resources?: Pod['spec']['containers'][number]['resources'],
  extra: Partial<Pod['spec']> = {},
): Pod {
  return makePod({ containers: [{ name: 'app', image: 'busybox', resources }], ...extra }, { uid });
}
const guaranteed = () => pod({ limits: { cpu: '500m', memory: '128Mi' } });
const burstable = () => pod({ requests: { cpu: '250m', memory: '64Mi' } });
const besteffort = () => pod();

describe('cgroup names', () => {
  it('spells cgroupfs paths and systemd slices the way upstream does', () => {
    const name = ['kubepods', 'burstable', `pod${uid}`];
    expect(cgroupfsName(name)).toBe(`/kubepods/burstable/pod${uid}`);
    expect(systemdSliceName(name)).toBe(`kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`);
    expect(systemdFilesystemPath(name)).toBe(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`,
    );
    expect(runtimeCgroupName([], 'systemd')).toBe('-.slice');
    expect(runtimeCgroupName([], 'cgroupfs')).toBe('/');
  });

  it('parses cgroupRoot for both drivers and rejects relative paths', () => {
    expect(parseCgroupRoot('', 'cgroupfs')).toEqual([]);
    expect(parseCgroupRoot('/', 'cgroupfs')).toEqual([]);
    expect(parseCgroupRoot('/custom/root/', 'cgroupfs')).toEqual(['custom', 'root']);
    expect(parseCgroupRoot('custom-root.slice', 'systemd')).toEqual(['custom', 'root']);
    expect(() => parseCgroupRoot('relative', 'cgroupfs')).toThrow(InvalidConfigError);
    expect(() => parseCgroupRoot('/a/../b', 'cgroupfs')).toThrow(/\.\./);
  });

  it('maps cpu shares onto cgroup v2 weights across the whole range', () => {
    expect(cpuSharesToWeight(2)).toBe(1);
    expect(cpuSharesToWeight(1024)).toBe(39);
    expect(cpuSharesToWeight(262144)).toBe(10000);
  });
});

describe('pod resource config (ResourceConfigForPod)', () => {
  it('gives guaranteed pods shares, quota and a memory limit', () => {
    expect(podResourceConfig(guaranteed(), { podPidsLimit: 100 })).toEqual({
      cpuShares: 512,
      cpuPeriodUs: 100_000,
      cpuQuotaUs: 50_000,
      memoryLimitBytes: 128 * 1024 ** 2,
      pidsLimit: 100,
    });
  });

  it('gives burstable pods only shares unless every container declares limits', () => {
    expect(podResourceConfig(burstable())).toEqual({ cpuShares: 256 });
    const mixed = makePod({
      containers: [
        { name: 'a', resources: { requests: { cpu: '100m' }, limits: { memory: '10Mi' } } },
        { name: 'b', resources: { requests: { cpu: '100m' }, limits: { memory: '20Mi' } } },
      ],
    });
    expect(podResourceConfig(mixed)).toEqual({ cpuShares: 204, memoryLimitBytes: 30 * 1024 ** 2 });
  });

  it('gives best-effort pods the minimum shares, and honours cpuCFSQuota=false and init containers', () => {
    expect(podResourceConfig(besteffort(), { podPidsLimit: -1 })).toEqual({ cpuShares: 2 });
    const withInit = pod(
      { limits: { cpu: '100m', memory: '10Mi' } },
      { initContainers: [{ name: 'init', resources: { limits: { cpu: '1', memory: '50Mi' } } }] },
    );
    expect(podResourceConfig(withInit, { cpuCFSQuota: false })).toEqual({
      cpuShares: 1024,
      cpuPeriodUs: 100_000,
      cpuQuotaUs: -1,
      memoryLimitBytes: 50 * 1024 ** 2,
    });
  });
});

describe('PodCgroupManager on a cgroup v1 layout', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `na-cgroups-v1-${process.pid}-`));
    for (const controller of ['cpu', 'memory', 'pids', 'freezer']) await mkdir(join(root, controller));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('creates the QoS hierarchy in every hierarchy and the pod cgroup with its limits', async () => {
    const fs = await detectCgroupFilesystem(root);
    expect(fs).toBeInstanceOf(CgroupV1Filesystem);
    const manager = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot: '/', podPidsLimit: 42 });
    await manager.start();
    for (const controller of ['cpu', 'memory', 'pids', 'freezer']) {
      expect((await stat(join(root, controller, 'kubepods/burstable'))).isDirectory()).toBe(true);
    }
    expect(await readFile(join(root, 'cpu/kubepods/besteffort/cpu.shares'), 'utf8')).toBe('2');

    expect(await manager.ensurePod(guaranteed())).toBe(`/kubepods/pod${uid}`);
    expect(await fs.read(`/kubepods/pod${uid}`, 'pids.max')).toBe('42');
    expect(await fs.read(`/kubepods/pod${uid}`, 'cpu.cfs_quota_us')).toBe('50000');
    expect(await fs.read(`/kubepods/pod${uid}`, 'memory.limit_in_bytes')).toBe(String(128 * 1024 ** 2));
    expect(await manager.podUids()).toEqual([uid]);
    await manager.removePod(uid);
    expect(await fs.exists(`/kubepods/pod${uid}`)).toBe(false);
  });

  it('gives the burstable tier the sum of its pods CPU requests as shares', async () => {
    const fs = new CgroupV1Filesystem(root);
    const manager = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot: '/' });
    await manager.start();
    const second = makePod(
      { containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] },
      { uid: 'second' },
    );
    await manager.updateQOSCgroups([burstable(), second, guaranteed(), besteffort()]);
    expect(await fs.read('/kubepods/burstable', 'cpu.shares')).toBe(String(Math.floor((1250 * 1024) / 1000)));
    expect(await fs.read('/kubepods/besteffort', 'cpu.shares')).toBe('2');
    await manager.updateQOSCgroups([]);
    expect(await fs.read('/kubepods/burstable', 'cpu.shares')).toBe('2');
  });

  it('removes only orphaned pod cgroups', async () => {
    const fs = new CgroupV1Filesystem(root);
    const manager = new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot: '/nested' });
    await manager.start();
    const keep = makePod({ containers: [{ name: 'a' }] }, { uid: 'keep-me' });
    const gone = makePod({ containers: [{ name: 'a' }] }, { uid: 'gone' });
    expect(await manager.ensurePod(keep)).toBe('/nested/kubepods/besteffort/podkeep-me');
    await manager.ensurePod(gone);
    // A container cgroup left inside is removed with its pod cgroup.
    await mkdir(join(root, 'memory/nested/kubepods/besteffort/podgone/container-1'));
    expect(await manager.removeOrphans(new Set(['keep-me']))).toEqual(['gone']);
    expect((await manager.podUids()).sort()).toEqual(['keep-me']);
  });
});

describe('PodCgroupManager on a cgroup v2 layout with the systemd driver', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `na-cgroups-v2-${process.pid}-`));
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids'),
    );
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes cpu.weight, cpu.max, memory.max and pids.max under nested slices', async () => {
    const fs = await detectCgroupFilesystem(root);
    expect(fs).toBeInstanceOf(CgroupV2Filesystem);
    const manager = new PodCgroupManager({ fs, cgroupDriver: 'systemd', cgroupRoot: '/', podPidsLimit: 7 });
    await manager.start();
    const parent = await manager.ensurePod(guaranteed());
    const slice = `kubepods-pod${uid.replaceAll('-', '_')}.slice`;
    expect(parent).toBe(slice);
    const dir = `/kubepods.slice/${slice}`;
    expect(await fs.read(dir, 'cpu.weight')).toBe(String(cpuSharesToWeight(512)));
    expect(await fs.read(dir, 'cpu.max')).toBe('50000 100000');
    expect(await fs.read(dir, 'memory.max')).toBe(String(128 * 1024 ** 2));
    expect(await fs.read(dir, 'pids.max')).toBe('7');
    expect(await readFile(join(root, 'cgroup.subtree_control'), 'utf8')).toContain('+pids');
    expect(await manager.podUids()).toEqual([uid]);
  });
});

describe('podCgroupRuntime', () => {
  it('creates the pod cgroup before the sandbox and names it as cgroup_parent', async () => {
    const root = await mkdtemp(join(tmpdir(), `na-cgroups-rt-${process.pid}-`));
    try {
      for (const controller of ['cpu', 'memory', 'pids']) await mkdir(join(root, controller));
      const manager = new PodCgroupManager({
        fs: new CgroupV1Filesystem(root),
        cgroupDriver: 'cgroupfs',
        cgroupRoot: '',
        podPidsLimit: 64,
      });
      const seen: { sandbox?: string; container?: string } = {};
      const inner = {
        async runPodSandbox(config: { linux?: { cgroupParent?: string } | null }) {
          seen.sandbox = config.linux?.cgroupParent;
          return 'sb-1';
        },
        async createContainer(
          _id: string,
          _c: unknown,
          sandbox: { linux?: { cgroupParent?: string } | null },
        ) {
          seen.container = sandbox.linux?.cgroupParent;
          return 'c-1';
        },
        async listPods() {
          return [];
        },
      } as unknown as PodRuntime;
      const p = burstable();
      const runtime = podCgroupRuntime(inner, manager, (id) => (id === uid ? p : undefined));
      await runtime.runPodSandbox({ metadata: { name: 'web', namespace: 'default', uid, attempt: 0 } });
      await runtime.createContainer(
        'sb-1',
        {},
        { metadata: { name: 'web', namespace: 'default', uid, attempt: 0 } },
      );
      expect(seen).toEqual({
        sandbox: `/kubepods/burstable/pod${uid}`,
        container: `/kubepods/burstable/pod${uid}`,
      });
      expect(await readFile(join(root, `pids/kubepods/burstable/pod${uid}/pids.max`), 'utf8')).toBe('64');
      // Calls it does not change reach the wrapped runtime.
      expect(await runtime.listPods()).toEqual([]);
      await runtime.runPodSandbox({
        metadata: { name: 'x', namespace: 'default', uid: 'unknown', attempt: 0 },
      });
      expect(seen.sandbox).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

// upstream ParseSystemdToCgroupName / ParseCgroupfsToCgroupName (the cgroup manager's CgroupName).
describe('parseRuntimeCgroupName', () => {
  it('reads the last element of a systemd path as a slice name, "_" back to "-"', () => {
    expect(parseRuntimeCgroupName('/system.slice', 'systemd')).toEqual(['system']);
    expect(parseRuntimeCgroupName('/kube-reserved.slice', 'systemd')).toEqual(['kube', 'reserved']);
    expect(parseRuntimeCgroupName('/a.slice/a-b_c.slice/', 'systemd')).toEqual(['a', 'b-c']);
    expect(parseRuntimeCgroupName('custom', 'systemd')).toEqual(['custom']);
  });

  it("takes a cgroupfs path's elements, the root as none", () => {
    expect(parseRuntimeCgroupName('/system', 'cgroupfs')).toEqual(['system']);
    expect(parseRuntimeCgroupName('/a/b', 'cgroupfs')).toEqual(['a', 'b']);
    expect(parseRuntimeCgroupName('/', 'cgroupfs')).toEqual([]);
  });
});
