/**
 * enforceNodeAllocatable's system-reserved / kube-reserved levels (and -compressible) against a
 * temporary directory standing for the cgroup mount: the limits written, upstream's events, and
 * upstream's errors for a cgroup that is missing or lacks a controller (fatal at start).
 */
import { access, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CgroupV1Filesystem,
  CgroupV2Filesystem,
  SystemdCgroupFilesystem,
  type SystemdManager,
  type UnitProperty,
} from '@nodeagent/kubelet/cgroups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enforceReservedCgroups } from '../src/reserved-cgroups';
import { StartupRefusedError } from '../src/startup-checks';

type Event = [string, string, string];

const base = {
  enforceNodeAllocatable: ['pods', 'system-reserved'] as string[],
  systemReserved: { cpu: '500m', memory: '1Gi', pid: '1000' } as Record<string, string>,
  systemReservedCgroup: '/system',
  kubeReserved: { cpu: '250m', memory: '256Mi' } as Record<string, string>,
  kubeReservedCgroup: '/kube',
  cgroupDriver: 'cgroupfs' as 'cgroupfs' | 'systemd',
  featureGates: {} as Record<string, boolean>,
};
type Config = Parameters<typeof enforceReservedCgroups>[0];
const config = (over: Partial<typeof base> = {}) => ({ ...base, ...over }) as Config;

let root: string;
let events: Event[];
const recordEvent = (type: string, reason: string, message: string) =>
  void events.push([type, reason, message]);
const read = (...parts: string[]) => readFile(join(root, ...parts), 'utf8');
const absent = (...parts: string[]) =>
  access(join(root, ...parts)).then(
    () => false,
    () => true,
  );

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `na-reserved-cg-${process.pid}-`));
  events = [];
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('cgroup v2', () => {
  const all = 'cpuset cpu io memory hugetlb pids';
  async function cgroup(path: string, controllers = all) {
    await mkdir(join(root, path), { recursive: true });
    await writeFile(join(root, path, 'cgroup.controllers'), controllers);
  }
  beforeEach(() => writeFile(join(root, 'cgroup.controllers'), all));

  it('system-reserved: cpu.weight, memory.max and pids.max on the existing cgroup, and the normal event', async () => {
    await cgroup('system');
    await enforceReservedCgroups(config(), { fs: new CgroupV2Filesystem(root), recordEvent });
    // 500m → 512 shares → weight 1 + (510 * 9999) / 262142 = 20
    expect(await read('system', 'cpu.weight')).toBe('20');
    expect(await read('system', 'memory.max')).toBe(String(2 ** 30));
    expect(await read('system', 'pids.max')).toBe('1000');
    expect(events).toEqual([
      ['Normal', 'NodeAllocatableEnforced', 'Updated limits on system reserved cgroup /system'],
    ]);
  });

  it('kube-reserved-compressible: only the CPU weight; both levels in upstream order', async () => {
    await cgroup('system');
    await cgroup('kube');
    const levels = ['kube-reserved-compressible', 'system-reserved'];
    await enforceReservedCgroups(config({ enforceNodeAllocatable: levels }), {
      fs: new CgroupV2Filesystem(root),
      recordEvent,
    });
    expect(await read('kube', 'cpu.weight')).toBe('10'); // 250m → 256 shares
    expect(await absent('kube', 'memory.max')).toBe(true);
    expect(events.map((e) => e[2])).toEqual([
      'Updated limits on system reserved cgroup /system',
      'Updated limits on kube reserved cgroup /kube',
    ]);
  });

  it('MemoryQoS also protects the reserved memory (memory.min)', async () => {
    await cgroup('system');
    await enforceReservedCgroups(config({ featureGates: { MemoryQoS: true } }), {
      fs: new CgroupV2Filesystem(root),
    });
    expect(await read('system', 'memory.min')).toBe(String(2 ** 30));
  });

  it('a missing cgroup: the warning event, then the start refused with upstream wording; nothing created', async () => {
    const run = enforceReservedCgroups(config({ enforceNodeAllocatable: ['kube-reserved'] }), {
      fs: new CgroupV2Filesystem(root),
      recordEvent,
    });
    const message = `Failed to enforce Kube Reserved Cgroup Limits on "/kube": could not read controllers for cgroup ["kube"]: open ${root}/kube/cgroup.controllers: no such file or directory`;
    await expect(run).rejects.toThrow(StartupRefusedError);
    await expect(run).rejects.toThrow(`Failed to start ContainerManager: ${message}`);
    expect(events).toEqual([['Warning', 'FailedNodeAllocatableEnforcement', message]]);
    expect(await absent('kube')).toBe(true);
  });

  it('a cgroup without the controllers the kubelet needs is refused, naming them', async () => {
    await cgroup('system', 'cpu memory');
    const run = enforceReservedCgroups(config(), { fs: new CgroupV2Filesystem(root), recordEvent });
    await expect(run).rejects.toThrow(
      'Failed to enforce System Reserved Cgroup Limits on "/system": cgroup ["system"] has some missing controllers: cpuset, hugetlb, pids',
    );
    expect(await absent('system', 'cpu.weight')).toBe(true);
  });

  it('nothing reserved: upstream refuses the level as not configured properly', async () => {
    await cgroup('system');
    const run = enforceReservedCgroups(config({ systemReserved: {} }), { fs: new CgroupV2Filesystem(root) });
    await expect(run).rejects.toThrow(
      'Failed to enforce System Reserved Cgroup Limits on "/system": ["system"] cgroup is not configured properly',
    );
  });

  it('levels not listed leave the cgroups alone', async () => {
    await cgroup('system');
    await enforceReservedCgroups(config({ enforceNodeAllocatable: ['pods'] }), {
      fs: new CgroupV2Filesystem(root),
      recordEvent,
    });
    expect(await absent('system', 'cpu.weight')).toBe(true);
    expect(events).toEqual([]);
  });

  it('systemd driver: "/system.slice" is the system.slice unit, updated (never started) and its files written', async () => {
    await cgroup('system.slice');
    const calls: string[] = [];
    const systemd: SystemdManager = {
      startTransientUnit: async (name: string) => {
        calls.push(`start ${name}`);
        return 'done';
      },
      stopUnit: async () => 'done',
      resetFailedUnit: async () => undefined,
      setUnitProperties: async (name: string, _runtime: boolean, properties: readonly UnitProperty[]) =>
        void calls.push(`set ${name} ${properties.map((p) => p.name).join(',')}`),
      version: async () => 252,
    };
    const fs = new SystemdCgroupFilesystem(new CgroupV2Filesystem(root), systemd);
    await enforceReservedCgroups(config({ cgroupDriver: 'systemd', systemReservedCgroup: '/system.slice' }), {
      fs,
      recordEvent,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^set system\.slice .*CPUWeight/);
    expect(await read('system.slice', 'memory.max')).toBe(String(2 ** 30));
    expect(events[0]?.[2]).toBe('Updated limits on system reserved cgroup /system.slice');
  });
});

describe('cgroup v1', () => {
  const hierarchies = ['cpu,cpuacct', 'cpuset', 'memory', 'pids', 'systemd'];
  beforeEach(async () => {
    for (const h of hierarchies) await mkdir(join(root, h), { recursive: true });
    await symlink('cpu,cpuacct', join(root, 'cpu'));
    await symlink('cpu,cpuacct', join(root, 'cpuacct'));
  });

  it('system-reserved: cpu.shares, memory.limit_in_bytes and pids.max in their hierarchies', async () => {
    for (const h of hierarchies) await mkdir(join(root, h, 'system'));
    await enforceReservedCgroups(config(), { fs: new CgroupV1Filesystem(root), recordEvent });
    expect(await read('cpu,cpuacct', 'system', 'cpu.shares')).toBe('512');
    expect(await read('memory', 'system', 'memory.limit_in_bytes')).toBe(String(2 ** 30));
    expect(await read('pids', 'system', 'pids.max')).toBe('1000');
    expect(events).toHaveLength(1);
  });

  it('system-reserved-compressible: cpu.shares alone', async () => {
    for (const h of hierarchies) await mkdir(join(root, h, 'system'));
    const levels = ['system-reserved-compressible'];
    await enforceReservedCgroups(config({ enforceNodeAllocatable: levels }), {
      fs: new CgroupV1Filesystem(root),
    });
    expect(await read('cpu,cpuacct', 'system', 'cpu.shares')).toBe('512');
    expect(await absent('memory', 'system', 'memory.limit_in_bytes')).toBe(true);
  });

  it('a cgroup missing from some hierarchies: upstream lists each missing path (cpu and cpuacct share one)', async () => {
    await mkdir(join(root, 'memory', 'system'));
    await mkdir(join(root, 'pids', 'system'));
    const run = enforceReservedCgroups(config(), { fs: new CgroupV1Filesystem(root), recordEvent });
    const cpu = join(root, 'cpu,cpuacct', 'system');
    const missing = [cpu, cpu, join(root, 'cpuset', 'system'), join(root, 'systemd', 'system')].join(', ');
    await expect(run).rejects.toThrow(
      `Failed to enforce System Reserved Cgroup Limits on "/system": cgroup ["system"] has some missing paths: ${missing}`,
    );
    expect(events[0]?.[1]).toBe('FailedNodeAllocatableEnforcement');
  });
});
