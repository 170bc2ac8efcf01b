import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MachineInfoError, type MachineSource, readMachineInfo } from '../src/index';
import { countCpuList, goArch, parseCpuMax, parseOsImage } from '../src/machine/index';

function fixture(files: Record<string, string>, fs = { blocks: 1000, bsize: 4096 }): MachineSource {
  return {
    readFile: async (path) => {
      const v = files[path];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return v;
    },
    statfs: async () => fs,
    kernelRelease: () => '6.1.0-test',
    arch: () => 'x64',
    hostname: () => 'fixture-host',
  };
}

const base = {
  '/sys/devices/system/cpu/online': '0-3,6\n',
  '/proc/meminfo': 'MemTotal:        8000000 kB\nMemFree:  100 kB\n',
  '/etc/machine-id': 'abc123\n',
  '/proc/sys/kernel/random/boot_id': 'boot-1\n',
  '/etc/os-release': 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
  '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '16\n',
};

describe('readMachineInfo from fixtures', () => {
  it('reads CPUs, memory, storage and identity', async () => {
    const info = await readMachineInfo({ source: fixture(base) });
    expect(info).toEqual({
      numCores: 5,
      memoryCapacityBytes: 8_000_000 * 1024,
      ephemeralStorageBytes: 4096 * 1000,
      machineID: 'abc123',
      systemUUID: '',
      bootID: 'boot-1',
      kernelVersion: '6.1.0-test',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      operatingSystem: 'linux',
      architecture: 'amd64',
      hostname: 'fixture-host',
      hugePages: [{ pageSizeBytes: 2 * 2 ** 20, count: 16 }],
      swapCapacityBytes: 0,
    });
  });

  it('reads the swap capacity from SwapTotal (cAdvisor SwapCapacity)', async () => {
    const withSwap = { ...base, '/proc/meminfo': 'MemTotal: 8000000 kB\nSwapTotal:       2097148 kB\n' };
    expect((await readMachineInfo({ source: fixture(withSwap) })).swapCapacityBytes).toBe(2_097_148 * 1024);
  });

  it('caps capacity by cgroup v2 cpu.max and memory.max', async () => {
    const info = await readMachineInfo({
      source: fixture({ ...base, '/cg/cpu.max': '150000 100000\n', '/cg/memory.max': '1073741824\n' }),
      cgroupDir: '/cg',
    });
    expect(info.numCores).toBe(2);
    expect(info.memoryCapacityBytes).toBe(2 ** 30);
    const unlimited = await readMachineInfo({
      source: fixture({ ...base, '/cg/cpu.max': 'max 100000', '/cg/memory.max': 'max' }),
      cgroupDir: '/cg',
    });
    expect(unlimited.numCores).toBe(5);
  });

  it('falls back to /proc/cpuinfo and the dbus machine id', async () => {
    const { '/sys/devices/system/cpu/online': _o, '/etc/machine-id': _m, ...rest } = base;
    const info = await readMachineInfo({
      source: fixture({
        ...rest,
        '/proc/cpuinfo': 'processor\t: 0\nmodel name: x\n\nprocessor\t: 1\n',
        '/var/lib/dbus/machine-id': 'dbus-id',
      }),
    });
    expect(info.numCores).toBe(2);
    expect(info.machineID).toBe('dbus-id');
  });

  it('fails with a typed error when /proc/meminfo is unreadable', async () => {
    const { '/proc/meminfo': _mem, ...rest } = base;
    await expect(readMachineInfo({ source: fixture(rest) })).rejects.toBeInstanceOf(MachineInfoError);
  });

  it('parses the small formats', () => {
    expect(countCpuList('0-1,4-7,9')).toBe(7);
    expect(parseCpuMax('max 100000')).toBeUndefined();
    expect(parseCpuMax('50000 100000')).toBe(0.5);
    expect(parseOsImage('ID=x')).toBe('Linux');
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
  });
});

describe('readMachineInfo on this host', () => {
  it('agrees with nproc, free, df and uname', async () => {
    const info = await readMachineInfo({ rootDir: '/' });
    const quota = existsSync('/sys/fs/cgroup/cpu.max')
      ? parseCpuMax(readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim())
      : undefined;
    const nproc = Number(execFileSync('nproc', ['--all']).toString().trim());
    expect(info.numCores).toBe(quota === undefined ? nproc : Math.min(nproc, Math.ceil(quota)));

    const free = execFileSync('free', ['-b']).toString();
    const total = Number(/^Mem:\s+(\d+)/m.exec(free)![1]);
    expect(info.memoryCapacityBytes).toBeLessThanOrEqual(total);
    if (!existsSync('/sys/fs/cgroup/memory.max')) expect(info.memoryCapacityBytes).toBe(total);

    const df = execFileSync('df', ['-B1', '--output=size', '/']).toString().trim().split('\n');
    expect(info.ephemeralStorageBytes).toBe(Number(df[1]!.trim()));
    expect(info.kernelVersion).toBe(execFileSync('uname', ['-r']).toString().trim());
    expect(info.bootID).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  });
});
