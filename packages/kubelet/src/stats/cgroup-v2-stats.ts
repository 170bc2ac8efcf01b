import { join } from 'node:path';
import { readPseudoFile } from '@nodeagent/primitives/pseudo-file';
import { StatsSourceError } from './stats-errors';
import type { CPUStats, IOStats, MemoryStats, PSIData, PSIStats } from './summary-types';

/** One block device's line of io.stat: cumulative bytes and operations read, written and discarded. */
export interface CgroupIODevice {
  major: number;
  minor: number;
  rbytes: number;
  wbytes: number;
  rios: number;
  wios: number;
  dbytes: number;
  dios: number;
}

/** What one cgroup v2 directory reports, shaped as the summary's CPU, memory and I/O stats. */
export interface CgroupV2Sample {
  cpu: CPUStats;
  memory: MemoryStats;
  io: IOStats;
  /** io.stat per device (cAdvisor's blkio figures); empty without the io controller or any I/O. */
  ioDevices: CgroupIODevice[];
}

/** A flat-keyed cgroup file (cpu.stat, memory.stat): one `key value` pair a line. */
export function parseFlatKeyed(text: string, source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key === undefined || value === undefined || extra !== undefined || !/^\d+$/.test(value))
      throw new StatsSourceError(source, line, 'not a "key value" line');
    out.set(key, Number(value));
  }
  return out;
}

const zeroPSI: PSIData = { total: 0, avg10: 0, avg60: 0, avg300: 0 };

function psiLine(fields: string[], source: string, line: string): PSIData {
  const values = new Map(fields.map((field) => field.split('=') as [string, string]));
  const number = (key: string, pattern: RegExp) => {
    const text = values.get(key);
    if (text === undefined || !pattern.test(text))
      throw new StatsSourceError(source, line, `no valid ${key}=`);
    return Number(text);
  };
  const avg = /^\d+(\.\d+)?$/;
  return {
    total: number('total', /^\d+$/),
    avg10: number('avg10', avg),
    avg60: number('avg60', avg),
    avg300: number('avg300', avg),
  };
}

/**
 * A *.pressure file: `some` and `full` lines of avg10/avg60/avg300 (percent) and total
 * (microseconds). Kernels before 5.13 write no `full` line for cpu; it reads as zero, as cAdvisor's.
 */
export function parsePressure(text: string, source: string): PSIStats {
  const out: PSIStats = { some: zeroPSI, full: zeroPSI };
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind === 'some' || kind === 'full') out[kind] = psiLine(fields, source, line);
    else if (kind !== '') throw new StatsSourceError(source, line, 'neither a "some" nor a "full" line');
  }
  return out;
}

/** io.stat: `major:minor key=value…` a device; keys the kernel does not write stay 0. */
export function parseIoStat(text: string, source: string): CgroupIODevice[] {
  const devices: CgroupIODevice[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [device = '', ...fields] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device);
    if (!match) throw new StatsSourceError(source, line, 'no major:minor device');
    const entry: CgroupIODevice = {
      major: Number(match[1]),
      minor: Number(match[2]),
      rbytes: 0,
      wbytes: 0,
      rios: 0,
      wios: 0,
      dbytes: 0,
      dios: 0,
    };
    for (const field of fields) {
      const [key, value = ''] = field.split('=');
      if (key !== undefined && key in entry && key !== 'major' && key !== 'minor' && /^\d+$/.test(value))
        entry[key as keyof CgroupIODevice] = Number(value);
    }
    devices.push(entry);
  }
  return devices;
}

/** Reads one file of a cgroup directory; injected so the reader runs against fixtures too. */
export type CgroupFileReader = (dir: string, file: string) => Promise<string>;

const readCgroupFile: CgroupFileReader = (dir, file) => readPseudoFile(join(dir, file));

async function optional(read: Promise<string>): Promise<string | undefined> {
  return read.catch((error: NodeJS.ErrnoException) => {
    // A *.pressure file is absent when the kernel runs with PSI off; io.stat without the io controller.
    if (error.code === 'ENOENT' || error.code === 'EOPNOTSUPP') return undefined;
    throw error;
  });
}

/**
 * One cgroup v2 directory's CPU, memory and I/O figures, derived as cAdvisor derives them for the
 * kubelet: CPU time from cpu.stat usage_usec; memory usage from memory.current, the working set
 * as usage minus memory.stat inactive_file (never below 0), RSS as anon, page faults as
 * pgfault/pgmajfault, available as memory.max minus the working set when there is a limit; PSI
 * from cpu/memory/io.pressure when the kernel has it.
 */
export async function readCgroupV2Stats(
  dir: string,
  time: string,
  read: CgroupFileReader = readCgroupFile,
): Promise<CgroupV2Sample> {
  const [cpuStat, memoryCurrent, memoryMax, memoryStat, ioStat, cpuPressure, memoryPressure, ioPressure] =
    await Promise.all([
      read(dir, 'cpu.stat'),
      read(dir, 'memory.current'),
      read(dir, 'memory.max'),
      read(dir, 'memory.stat'),
      optional(read(dir, 'io.stat')),
      optional(read(dir, 'cpu.pressure')),
      optional(read(dir, 'memory.pressure')),
      optional(read(dir, 'io.pressure')),
    ]);
  const source = (file: string) => join(dir, file);
  const cpu = parseFlatKeyed(cpuStat, source('cpu.stat'));
  const usageUsec = cpu.get('usage_usec');
  if (usageUsec === undefined) throw new StatsSourceError(source('cpu.stat'), cpuStat, 'no usage_usec');
  const usageText = memoryCurrent.trim();
  if (!/^\d+$/.test(usageText))
    throw new StatsSourceError(source('memory.current'), usageText, 'not a byte count');
  const usageBytes = Number(usageText);
  const memory = parseFlatKeyed(memoryStat, source('memory.stat'));
  const workingSetBytes = Math.max(0, usageBytes - (memory.get('inactive_file') ?? 0));
  const limitText = memoryMax.trim();
  const out: CgroupV2Sample = {
    cpu: { time, usageCoreNanoSeconds: usageUsec * 1000 },
    memory: {
      time,
      usageBytes,
      workingSetBytes,
      rssBytes: memory.get('anon') ?? 0,
      pageFaults: memory.get('pgfault') ?? 0,
      majorPageFaults: memory.get('pgmajfault') ?? 0,
    },
    io: { time },
    ioDevices: ioStat === undefined ? [] : parseIoStat(ioStat, source('io.stat')),
  };
  if (/^\d+$/.test(limitText)) out.memory.availableBytes = Math.max(0, Number(limitText) - workingSetBytes);
  if (cpuPressure !== undefined) out.cpu.psi = parsePressure(cpuPressure, source('cpu.pressure'));
  if (memoryPressure !== undefined) out.memory.psi = parsePressure(memoryPressure, source('memory.pressure'));
  if (ioPressure !== undefined) out.io.psi = parsePressure(ioPressure, source('io.pressure'));
  return out;
}
