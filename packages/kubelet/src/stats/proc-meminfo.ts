import { parseFlatKeyed } from './cgroup-v2-stats';
import { StatsSourceError } from './stats-errors';

/**
 * Node memory in bytes, from the root memory cgroup as upstream (cAdvisor) reads it: v2
 * ({@link nodeMemoryFromCgroupV2Root}) or v1 ({@link nodeMemoryFromCgroupV1Root}); /proc/meminfo
 * ({@link nodeMemoryFromMeminfo}) where neither can be read.
 */
export interface NodeMemoryFigures {
  /** MemTotal. */
  totalBytes: number;
  /** In use, page cache included: the v2 root's anon + file, the v1 root's memory.usage_in_bytes, or MemTotal − MemFree. */
  usageBytes: number;
  /** Usage minus inactive file pages (inactive_file, total_inactive_file or Inactive(file)). */
  workingSetBytes: number;
  /** totalBytes − workingSetBytes: the eviction manager's memory.available. */
  availableBytes: number;
}

/** /proc/meminfo as a map of field → bytes (the kernel writes kB). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match) out.set(match[1] as string, Number(match[2]) * (line.endsWith('kB') ? 1024 : 1));
  }
  return out;
}

/**
 * Node memory the way upstream derives it from the root cgroup: usage is everything not free,
 * the working set leaves out inactive page cache (reclaimable without I/O pressure), and
 * available is capacity minus working set.
 */
export function nodeMemoryFromMeminfo(text: string): NodeMemoryFigures {
  const fields = parseMeminfo(text);
  const total = fields.get('MemTotal');
  const free = fields.get('MemFree');
  if (total === undefined || free === undefined)
    throw new StatsSourceError('/proc/meminfo', text.slice(0, 80), 'no MemTotal/MemFree lines');
  const usage = total - free;
  const inactiveFile = fields.get('Inactive(file)') ?? 0;
  const workingSet = Math.max(0, usage - inactiveFile);
  return {
    totalBytes: total,
    usageBytes: usage,
    workingSetBytes: workingSet,
    availableBytes: total - workingSet,
  };
}

/**
 * Node memory on a cgroup v2 host, as upstream gets it from cAdvisor's root cgroup: the root has
 * no memory.current, so usage is its memory.stat anon + file (libcontainer's root stats); the
 * working set leaves out memory.stat inactive_file; available is MemTotal minus the working set.
 * Kernel memory (slab, page tables) is in neither, unlike MemTotal − MemFree.
 */
export function nodeMemoryFromCgroupV2Root(meminfo: string, rootMemoryStat: string): NodeMemoryFigures {
  const total = parseMeminfo(meminfo).get('MemTotal');
  if (total === undefined)
    throw new StatsSourceError('/proc/meminfo', meminfo.slice(0, 80), 'no MemTotal line');
  const stat = parseFlatKeyed(rootMemoryStat, 'memory.stat');
  const anon = stat.get('anon');
  const file = stat.get('file');
  if (anon === undefined || file === undefined)
    throw new StatsSourceError('memory.stat', rootMemoryStat.slice(0, 80), 'no anon/file lines');
  const usage = anon + file;
  const workingSet = Math.max(0, usage - (stat.get('inactive_file') ?? 0));
  return {
    totalBytes: total,
    usageBytes: usage,
    workingSetBytes: workingSet,
    availableBytes: total - workingSet,
  };
}

/**
 * Node memory on a cgroup v1 host, as upstream gets it from cAdvisor's root memory cgroup: usage
 * is the root's memory.usage_in_bytes (page cache and anonymous memory of every cgroup, kernel
 * memory such as slab left out), the working set leaves out memory.stat total_inactive_file (the
 * hierarchical figure: libcontainer's key on v1), and available is MemTotal minus the working
 * set. A memory.stat without total_inactive_file leaves the working set at the usage, as cAdvisor.
 */
export function nodeMemoryFromCgroupV1Root(
  meminfo: string,
  usageInBytes: string,
  rootMemoryStat: string,
): NodeMemoryFigures {
  const total = parseMeminfo(meminfo).get('MemTotal');
  if (total === undefined)
    throw new StatsSourceError('/proc/meminfo', meminfo.slice(0, 80), 'no MemTotal line');
  const usageText = usageInBytes.trim();
  if (!/^\d+$/.test(usageText))
    throw new StatsSourceError('memory.usage_in_bytes', usageText.slice(0, 80), 'not a byte count');
  const usage = Number(usageText);
  const inactiveFile = parseFlatKeyed(rootMemoryStat, 'memory.stat').get('total_inactive_file') ?? 0;
  const workingSet = Math.max(0, usage - inactiveFile);
  return {
    totalBytes: total,
    usageBytes: usage,
    workingSetBytes: workingSet,
    availableBytes: total - workingSet,
  };
}

/** Node swap in bytes from /proc/meminfo: used is SwapTotal − SwapFree, available SwapFree (0 and 0 without swap). */
export function nodeSwapFromMeminfo(text: string): { usageBytes: number; availableBytes: number } {
  const fields = parseMeminfo(text);
  const total = fields.get('SwapTotal') ?? 0;
  const free = fields.get('SwapFree') ?? 0;
  return { usageBytes: Math.max(0, total - free), availableBytes: free };
}
