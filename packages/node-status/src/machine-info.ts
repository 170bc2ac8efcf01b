import { readFile, statfs } from 'node:fs/promises';
import { arch as osArch, hostname as osHostname, release } from 'node:os';
import { goArch } from '@nodeagent/primitives';
import { MachineInfoError } from './errors';

/** GOARCH of a Node process.arch name (one definition, in @nodeagent/primitives). */
export { goArch } from '@nodeagent/primitives';

/** Facts about the machine that go into capacity and nodeInfo. */
export interface MachineInfo {
  /** Online CPUs (as `nproc` counts them, capped by a cgroup v2 cpu.max quota if one is set). */
  numCores: number;
  /** MemTotal from /proc/meminfo, capped by cgroup v2 memory.max if one is set. */
  memoryCapacityBytes: number;
  /** Size of the filesystem holding the kubelet root dir (statfs). */
  ephemeralStorageBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
  hostname: string;
  /** Pre-allocated huge pages per page size in bytes (2 MiB, 1 GiB), from /sys/kernel/mm/hugepages. */
  hugePages: Array<{ pageSizeBytes: number; count: number }>;
  /** SwapTotal from /proc/meminfo (cAdvisor's SwapCapacity); 0 or absent: no swap. */
  swapCapacityBytes?: number;
}

/** File and filesystem access, injected so tests can feed fixtures. */
export interface MachineSource {
  /** A file's text (/proc, /sys, /etc/machine-id). */
  readFile(path: string): Promise<string>;
  /** A filesystem's size, for ephemeral-storage capacity. */
  statfs(path: string): Promise<{ blocks: number; bsize: number }>;
  /** The kernel release (`uname -r`). */
  kernelRelease(): string;
  /** Node's architecture name (`x64`, `arm64`, …), mapped to GOARCH by the caller. */
  arch(): string;
  /** The host's name. */
  hostname(): string;
}

/** The MachineSource of this host: its files, statfs and os module. */
export const hostMachineSource: MachineSource = {
  readFile: (path) => readFile(path, 'utf8'),
  statfs: async (path) => {
    const s = await statfs(path);
    return { blocks: Number(s.blocks), bsize: Number(s.bsize) };
  },
  kernelRelease: () => release(),
  arch: () => osArch(),
  hostname: () => osHostname(),
};

/** Where machine facts come from (default this host) and which filesystem is the node's root. */
export interface ReadMachineInfoOptions {
  /** Directory whose filesystem backs ephemeral storage (the kubelet's --root-dir). */
  rootDir?: string;
  /** cgroup v2 directory whose limits cap capacity (default: the unified hierarchy root). */
  cgroupDir?: string;
  source?: MachineSource;
}

/** Reads /proc, /sys, cgroup v2 limits, statfs and os-release, like cAdvisor's MachineInfo. */
export async function readMachineInfo(opts: ReadMachineInfoOptions = {}): Promise<MachineInfo> {
  const src = opts.source ?? hostMachineSource;
  const cgroupDir = opts.cgroupDir ?? '/sys/fs/cgroup';
  const optional = (path: string) =>
    src.readFile(path).then(
      (s) => s.trim(),
      () => '',
    );

  const [online, cpuinfo, meminfo, cpuMax, memMax] = await Promise.all([
    optional('/sys/devices/system/cpu/online'),
    optional('/proc/cpuinfo'),
    src.readFile('/proc/meminfo').catch((err: Error) => {
      throw new MachineInfoError('/proc/meminfo', err.message, 'cannot read memory information');
    }),
    optional(`${cgroupDir}/cpu.max`),
    optional(`${cgroupDir}/memory.max`),
  ]);
  let numCores = online ? countCpuList(online) : countCpuinfo(cpuinfo);
  if (numCores < 1) throw new MachineInfoError('numCores', numCores, 'found no online CPUs');
  const quota = parseCpuMax(cpuMax);
  if (quota !== undefined) numCores = Math.max(1, Math.min(numCores, Math.ceil(quota)));

  let memoryCapacityBytes = parseMemTotal(meminfo);
  if (/^[0-9]+$/.test(memMax)) memoryCapacityBytes = Math.min(memoryCapacityBytes, Number(memMax));

  const hugePages = (
    await Promise.all(
      HUGE_PAGE_SIZES_KB.map(async (kb) => {
        const text = await optional(`/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages`);
        return text === '' ? [] : [{ pageSizeBytes: kb * 1024, count: Number(text) }];
      }),
    )
  ).flat();
  const ephemeralStorageBytes = await readEphemeralStorageBytes(opts);
  const [machineID, dbusID, systemUUID, bootID, osRelease] = await Promise.all([
    optional('/etc/machine-id'),
    optional('/var/lib/dbus/machine-id'),
    optional('/sys/class/dmi/id/product_uuid'),
    optional('/proc/sys/kernel/random/boot_id'),
    optional('/etc/os-release'),
  ]);
  return {
    numCores,
    memoryCapacityBytes,
    ephemeralStorageBytes,
    machineID: machineID || dbusID,
    systemUUID,
    bootID,
    kernelVersion: src.kernelRelease(),
    osImage: parseOsImage(osRelease),
    operatingSystem: 'linux',
    architecture: goArch(src.arch()),
    hostname: src.hostname(),
    hugePages,
    swapCapacityBytes: parseSwapTotal(meminfo),
  };
}

/**
 * The size of the filesystem holding the root dir (statfs; the host's `/` when the root dir
 * cannot be read): the one machine fact the kubelet reads at every status update (cAdvisor's
 * RootFsInfo), where the rest is read once at start.
 */
export async function readEphemeralStorageBytes(opts: ReadMachineInfoOptions = {}): Promise<number> {
  const src = opts.source ?? hostMachineSource;
  const fs = await src.statfs(opts.rootDir ?? '/').catch(() => src.statfs('/'));
  return fs.blocks * fs.bsize;
}

/** x86-64 and arm64 huge page sizes the kubelet reports as hugepages-2Mi / hugepages-1Gi. */
const HUGE_PAGE_SIZES_KB = [2048, 1048576];

/** "0-3,6,8-9" → 7. */
export function countCpuList(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.trim().split('-');
    if (a === undefined || a === '') continue;
    n += b === undefined ? 1 : Number(b) - Number(a) + 1;
  }
  return n;
}

function countCpuinfo(cpuinfo: string): number {
  return cpuinfo.split('\n').filter((l) => /^processor\s*:/.test(l)).length;
}

/** cgroup v2 cpu.max "quota period" → CPUs, or undefined for "max"/absent. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.split(/\s+/);
  if (!quota || quota === 'max') return undefined;
  const p = Number(period ?? '100000');
  return p > 0 ? Number(quota) / p : undefined;
}

/** MemTotal of /proc/meminfo text, in bytes. */
export function parseMemTotal(meminfo: string): number {
  const m = /^MemTotal:\s+([0-9]+)\s*kB/m.exec(meminfo);
  if (!m) throw new MachineInfoError('/proc/meminfo', meminfo.slice(0, 80), 'no MemTotal line');
  return Number(m[1]) * 1024;
}

/** SwapTotal in bytes; 0 when the line is missing (a kernel without swap support). */
export function parseSwapTotal(meminfo: string): number {
  const m = /^SwapTotal:\s+([0-9]+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : 0;
}

/** PRETTY_NAME from os-release, as the kubelet reports osImage. */
export function parseOsImage(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  if (!m) return 'Linux';
  return m[1]!.trim().replace(/^["']|["']$/g, '');
}
