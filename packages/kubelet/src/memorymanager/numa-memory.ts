import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBinary } from '@nodeagent/primitives';

/** One NUMA node's memory as cAdvisor's machine info gives it to upstream's memory manager. */
export interface NumaMemory {
  id: number;
  /** The node's MemTotal, bytes. */
  memoryBytes: number;
  /** Every huge page size the kernel offers on the node, with the pages it holds (0 included). */
  hugePages: { pageSizeBytes: number; count: number }[];
}

/** Whether a resource is one the memory manager pins: `memory` or a huge pages size. */
export function isMemoryType(name: string): boolean {
  return name === 'memory' || name.startsWith('hugepages-');
}

/** The resource name of a huge page size (upstream HugePageResourceName): `hugepages-2Mi`. */
export function hugePagesResourceName(pageSizeBytes: number): string {
  return `hugepages-${formatBinary(pageSizeBytes)}`;
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `<dir>/hugepages-<kB>kB/nr_hugepages` for every size under `dir` (cAdvisor's GetHugePagesInfo). */
function readHugePages(dir: string): NumaMemory['hugePages'] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^hugepages-\d+kB$/.test(name));
  } catch {
    return [];
  }
  return names
    .map((name) => ({
      pageSizeBytes: Number(name.slice('hugepages-'.length, -2)) * 1024,
      count: readNumber(join(dir, name, 'nr_hugepages')) ?? 0,
    }))
    .sort((a, b) => a.pageSizeBytes - b.pageSizeBytes);
}

/** The `MemTotal` line of a meminfo file (`Node 0 MemTotal: 16318196 kB` or `MemTotal: … kB`), bytes. */
function memTotal(path: string): number | undefined {
  try {
    const match = /MemTotal:\s+(\d+)\s*kB/.exec(readFileSync(path, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each NUMA node's memory and huge pages from `<sysfsRoot>/devices/system/node/node<N>` (its
 * `meminfo` MemTotal and `hugepages/*`/nr_hugepages), as cAdvisor reads them. A machine without
 * that directory is one node 0 holding `<procRoot>/meminfo`'s MemTotal and the machine's huge
 * pages (cAdvisor would report a node 0 without memory there, which the Static policy cannot use).
 */
export function readNumaMemory(sysfsRoot = '/sys', procRoot = '/proc'): NumaMemory[] {
  const dir = join(sysfsRoot, 'devices/system/node');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => /^node\d+$/.test(name));
  } catch {
    // No NUMA directory: the single-node fallback below.
  }
  if (names.length === 0)
    return [
      {
        id: 0,
        memoryBytes: memTotal(join(procRoot, 'meminfo')) ?? 0,
        hugePages: readHugePages(join(sysfsRoot, 'kernel/mm/hugepages')),
      },
    ];
  return names
    .map((name) => ({
      id: Number(name.slice(4)),
      memoryBytes: memTotal(join(dir, name, 'meminfo')) ?? 0,
      hugePages: readHugePages(join(dir, name, 'hugepages')),
    }))
    .sort((a, b) => a.id - b.id);
}

/** The machine's memory capacity (cAdvisor's MemoryCapacity): `<procRoot>/meminfo` MemTotal, bytes. */
export function readMachineMemoryBytes(procRoot = '/proc'): number {
  return memTotal(join(procRoot, 'meminfo')) ?? 0;
}
