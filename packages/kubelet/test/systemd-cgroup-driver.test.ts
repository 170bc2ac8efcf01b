import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { CgroupError } from '../src/cgroups/cgroup-errors';
import { CgroupV2Filesystem } from '../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../src/cgroups/pod-cgroup-manager';
import { SystemdCgroupFilesystem } from '../src/cgroups/systemd-cgroup-filesystem';
import type { SystemdManager, UnitProperty } from '../src/cgroups/systemd-manager';
import { resourceProperties } from '../src/cgroups/systemd-unit-properties';
import { makePod } from './helpers/fixtures';

const uid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const slicePod = `pod${uid.replaceAll('-', '_')}`;
const infinity = 2n ** 64n - 1n;

function pod(resources?: Pod['spec']['containers'][number]['resources']): Pod {
  return makePod({ containers: [{ name: 'app', image: 'busybox', resources }] }, { uid });
}

/** Properties as name → value, for reading assertions. */
function props(list: readonly UnitProperty[]): Record<string, unknown> {
  return Object.fromEntries(list.map((p) => [p.name, p.value.value]));
}

type Call = [string, ...unknown[]];

/** A systemd that records every call and finishes every job with `result`. */
class FakeSystemd implements SystemdManager {
  readonly calls: Call[] = [];
  result = 'done';
  startError: Error | undefined;
  systemdVersion = 252;
  async startTransientUnit(name: string, mode: 'replace', properties: readonly UnitProperty[]) {
    this.calls.push(['StartTransientUnit', name, mode, properties]);
    if (this.startError) throw this.startError;
    return this.result;
  }
  async stopUnit(name: string, mode: 'replace') {
    this.calls.push(['StopUnit', name, mode]);
    return 'done';
  }
  async resetFailedUnit(name: string) {
    this.calls.push(['ResetFailedUnit', name]);
  }
  async setUnitProperties(name: string, runtime: boolean, properties: readonly UnitProperty[]) {
    this.calls.push(['SetUnitProperties', name, runtime, properties]);
  }
  async version() {
    return this.systemdVersion;
  }
  members(): string[] {
    return this.calls.map((c) => `${c[0]} ${c[1]}`);
  }
}

describe('the systemd cgroup driver (SystemdCgroupFilesystem) against a fake systemd', () => {
  let root: string;
  let systemd: FakeSystemd;
  let fs: SystemdCgroupFilesystem;
  let manager: PodCgroupManager;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `na-sdcg-${process.pid}-`));
    await writeFile(join(root, 'cgroup.controllers'), 'cpu memory pids');
    systemd = new FakeSystemd();
    fs = new SystemdCgroupFilesystem(new CgroupV2Filesystem(root), systemd);
    manager = new PodCgroupManager({ fs, cgroupDriver: 'systemd', cgroupRoot: '/', podPidsLimit: 7 });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('start: systemd creates kubepods.slice and the two QoS slices, each wanting its parent; best-effort gets CPUWeight 1', async () => {
    await manager.start();
    expect(systemd.members()).toEqual([
      'StartTransientUnit kubepods.slice',
      'StartTransientUnit kubepods-burstable.slice',
      'StartTransientUnit kubepods-besteffort.slice',
      'SetUnitProperties kubepods-besteffort.slice',
    ]);
    const [, name, mode, properties] = systemd.calls[1]!;
    expect([name, mode]).toEqual(['kubepods-burstable.slice', 'replace']);
    expect(props(properties as UnitProperty[])).toEqual({
      Description: 'libcontainer container kubepods-burstable.slice',
      Wants: ['kubepods.slice'],
      MemoryAccounting: true,
      CPUAccounting: true,
      IOAccounting: true,
      TasksAccounting: true,
      DefaultDependencies: false,
    });
    expect(props(systemd.calls[0]![3] as UnitProperty[]).Wants).toEqual(['-.slice']);
    expect(systemd.calls[3]!.slice(2, 3)).toEqual([true]);
    expect(props(systemd.calls[3]![3] as UnitProperty[])).toEqual({ CPUWeight: 1n });
    expect(await fs.read('/kubepods.slice/kubepods-besteffort.slice', 'cpu.weight')).toBe('1');
  });

  it('a Guaranteed pod: its slice started once, the limits as unit properties and in the files', async () => {
    await manager.start();
    systemd.calls.length = 0;
    const parent = await manager.ensurePod(pod({ limits: { cpu: '500m', memory: '128Mi' } }));
    expect(parent).toBe(`kubepods-${slicePod}.slice`);
    expect(systemd.members()).toEqual([`StartTransientUnit ${parent}`, `SetUnitProperties ${parent}`]);
    expect(props(systemd.calls[0]![3] as UnitProperty[])).toMatchObject({
      Description: `libcontainer container ${parent}`,
      Wants: ['kubepods.slice'],
    });
    // 500m → 512 shares → weight 20; 50 ms per 100 ms → 500 ms per second.
    expect(props(systemd.calls[1]![3] as UnitProperty[])).toEqual({
      MemoryMax: BigInt(128 * 2 ** 20),
      CPUWeight: 20n,
      CPUQuotaPeriodUSec: 100_000n,
      CPUQuotaPerSecUSec: 500_000n,
      TasksMax: 7n,
    });
    const dir = `/kubepods.slice/${parent}`;
    expect(await fs.read(dir, 'memory.max')).toBe(String(128 * 2 ** 20));
    expect(await fs.read(dir, 'cpu.max')).toBe('50000 100000');
    expect(await fs.read(dir, 'pids.max')).toBe('7');

    // Again (a resync): the slice exists, so only its properties are set.
    systemd.calls.length = 0;
    await manager.ensurePod(pod({ limits: { cpu: '500m', memory: '128Mi' } }));
    expect(systemd.members()).toEqual([`SetUnitProperties ${parent}`]);
  });

  it('a Burstable pod without limits gets only CPUWeight and TasksMax', async () => {
    await manager.start();
    systemd.calls.length = 0;
    const parent = await manager.ensurePod(pod({ requests: { cpu: '250m', memory: '64Mi' } }));
    expect(parent).toBe(`kubepods-burstable-${slicePod}.slice`);
    expect(props(systemd.calls[0]![3] as UnitProperty[]).Wants).toEqual(['kubepods-burstable.slice']);
    expect(props(systemd.calls[1]![3] as UnitProperty[])).toEqual({ CPUWeight: 10n, TasksMax: 7n });
  });

  it('removing a pod stops its slice and resets it, touching no other QoS tier', async () => {
    await manager.start();
    await manager.ensurePod(pod({ requests: { cpu: '250m' } }));
    systemd.calls.length = 0;
    await manager.removePod(uid);
    const unit = `kubepods-burstable-${slicePod}.slice`;
    expect(systemd.calls).toEqual([
      ['StopUnit', unit, 'replace'],
      ['ResetFailedUnit', unit],
    ]);
    await expect(access(join(root, 'kubepods.slice/kubepods-burstable.slice', unit))).rejects.toThrow();
    expect(await manager.podUids()).toEqual([]);
  });

  it('a slice systemd already has (UnitExists) is fine, as for upstream', async () => {
    systemd.startError = Object.assign(new Error('Unit kubepods.slice already exists.'), {
      errorName: 'org.freedesktop.systemd1.UnitExists',
    });
    await manager.start();
    expect(systemd.members().filter((m) => m.startsWith('StartTransientUnit'))).toHaveLength(3);
  });

  it("a job that does not end 'done' is reset and reported with upstream's words", async () => {
    systemd.result = 'failed';
    const error = await manager.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CgroupError);
    expect((error as Error).message).toContain('error creating systemd unit `kubepods.slice`: got `failed`');
    expect(systemd.calls.at(-1)).toEqual(['ResetFailedUnit', 'kubepods.slice']);
  });

  it('another D-Bus error names the unit', async () => {
    systemd.startError = Object.assign(new Error('Access denied'), {
      errorName: 'org.freedesktop.DBus.Error.AccessDenied',
    });
    const error = await manager.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CGROUP', field: 'systemd unit', value: 'kubepods.slice' });
    expect((error as Error).message).toContain('unable to start unit "kubepods.slice": Access denied');
  });

  it('a job systemd never finishes: upstream\'s "Timeout waiting for systemd to create"', async () => {
    systemd.startError = Object.assign(new Error('timed out'), { name: 'SystemdJobTimeoutError' });
    const error = await manager.start().catch((e: unknown) => e);
    expect((error as Error).message).toContain('Timeout waiting for systemd to create kubepods.slice');
    expect(systemd.calls.at(-1)).toEqual(['ResetFailedUnit', 'kubepods.slice']);
  });

  it('exposes the mount root of the files it writes (the summary reads PSI there)', () => {
    expect(fs.mountRoot).toBe(root);
    expect(fs.version).toBe(2);
  });
});

describe('unit properties for limits (libcontainer genV2/genV1ResourcesProperties)', () => {
  it('rounds a quota up to whole 10 ms per second, and gives infinity for none', () => {
    expect(props(resourceProperties({ cpuQuotaUs: 33_333, cpuPeriodUs: 100_000 }, 2, 252))).toEqual({
      CPUQuotaPeriodUSec: 100_000n,
      CPUQuotaPerSecUSec: 340_000n,
    });
    expect(props(resourceProperties({ cpuQuotaUs: -1, cpuPeriodUs: 100_000 }, 2, 252))).toEqual({
      CPUQuotaPeriodUSec: 100_000n,
      CPUQuotaPerSecUSec: infinity,
    });
    // A quota alone assumes the kernel's 100 ms period.
    expect(props(resourceProperties({ cpuQuotaUs: 20_000 }, 2, 252))).toEqual({
      CPUQuotaPerSecUSec: 200_000n,
    });
  });

  it('-1 memory and pids limits become infinity; systemd before 242 gets no CPUQuotaPeriodUSec', () => {
    expect(props(resourceProperties({ memoryLimitBytes: -1, pidsLimit: -1 }, 2, 252))).toEqual({
      MemoryMax: infinity,
      TasksMax: infinity,
    });
    expect(props(resourceProperties({ cpuQuotaUs: 50_000, cpuPeriodUs: 100_000 }, 2, 241))).toEqual({
      CPUQuotaPerSecUSec: 500_000n,
    });
  });

  it('cgroup v1 names them MemoryLimit and CPUShares', () => {
    expect(props(resourceProperties({ memoryLimitBytes: 1024, cpuShares: 512 }, 1, 252))).toEqual({
      MemoryLimit: 1024n,
      CPUShares: 512n,
    });
  });
});
