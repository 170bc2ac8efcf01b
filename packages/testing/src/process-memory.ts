import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CgroupMemory,
  type CgroupMemorySummary,
  cgroupSummary,
  readBenchCgroupOf,
} from './cgroup-memory';
import { smapsMappings } from './smaps';

// Memory of another process, as an operator sees it (/proc) plus its V8 heap as the process
// itself reports it. The heap comes from a tiny preload (NODE_OPTIONS=--require) that answers
// SIGUSR2 by writing process.memoryUsage() and the V8 heap statistics to a file: the daemons
// have no endpoint for it, and the preload is a few hundred bytes of code. With
// NA_RSS_HEAPSNAPSHOT set, the last report of each process also writes a heap snapshot into
// bench-results/heap/ (after the RSS was read; only the last, since taking a snapshot costs the
// process tens of MB of native memory that would distort any later reading).

const REPORTER = `
const { writeFileSync } = require('node:fs');
const v8 = require('node:v8');
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  writeFileSync(process.env.NA_MEM_REPORT + '.tmp', JSON.stringify({
    heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    heapPhysical: h.total_physical_size, heapLimit: h.heap_size_limit,
    spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])),
  }));
  if (process.env.NA_MEM_SNAPSHOT && require('node:fs').existsSync(process.env.NA_MEM_REPORT + '.snap'))
    v8.writeHeapSnapshot(process.env.NA_MEM_SNAPSHOT);
  require('node:fs').renameSync(process.env.NA_MEM_REPORT + '.tmp', process.env.NA_MEM_REPORT);
});
`;

/** A process's memory from /proc/<pid>/status, in bytes. */
export interface ProcessMemory {
  /**
   * Its memory cgroup's figures (working set, anon, file, PSS…) when the bench started it in one
   * of its own (cgroup-memory.ts's MemoryCgroup): what the node charges, read with the RSS.
   */
  cgroup?: CgroupMemory;
  /** VmRSS: what `ps`/`top` and the kubelet's container stats call memory. */
  rssBytes: number;
  /** VmHWM: the peak RSS so far (a full sync's transient allocations). */
  peakRssBytes: number;
  /** RssAnon: heap, malloc arenas, stacks; the part that grows with data. */
  anonRssBytes: number;
  /** RssFile: pages of the executable and libraries mapped in (shared with other processes running them). */
  fileRssBytes: number;
  /** RssShmem: shared memory and tmpfs pages the process maps (VmRSS = anon + file + shmem). */
  shmemRssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** Used bytes per V8 heap space (new_space, old_space, code_space, large_object_space, ...). */
  heapSpaces: Record<string, number>;
  /** Where fileRssBytes is: resident pages per file-backed mapping, largest first. */
  fileMappings: FileMapping[];
  /**
   * User + system CPU seconds the process had used when its RSS was read: the difference
   * between two readings is what it spent in between (an idle daemon's own upkeep).
   */
  cpuSeconds: number;
}

/** Environment that makes a node process (or single executable) load the heap reporter. */
export function reporterEnv(dir: string, name: string, snapshotDir?: string): Record<string, string> {
  const preload = join(dir, 'na-mem-reporter.cjs');
  if (!existsSync(preload)) writeFileSync(preload, REPORTER);
  const env: Record<string, string> = {
    NODE_OPTIONS: `--require ${preload} ${process.env.NA_RSS_NODE_OPTIONS ?? ''}`.trim(),
    NA_MEM_REPORT: join(dir, `${name}.mem.json`),
  };
  if (process.env.NA_RSS_HEAPSNAPSHOT && snapshotDir) {
    mkdirSync(snapshotDir, { recursive: true });
    env.NA_MEM_SNAPSHOT = join(snapshotDir, `${name}.heapsnapshot`);
  }
  return env;
}

/** A `kB` field of /proc/<pid>/status text (VmRSS, RssAnon, RssFile…) in bytes; throws when it is missing (a zombie has no VmRSS). */
export function statusField(status: string, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  if (!m) throw new Error(`no ${field} in /proc/<pid>/status`);
  return Number(m[1]) * 1024;
}

/** RSS from /proc, then the heap from the process's own report (SIGUSR2). */
export async function measureProcess(
  pid: number,
  env: Record<string, string>,
  { last = false }: { last?: boolean } = {},
): Promise<ProcessMemory> {
  const cgroup = await readBenchCgroupOf(pid);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const cpu = await cpuSeconds(pid);
  const mappings = await readFileMappings(pid);
  const report = env.NA_MEM_REPORT as string;
  await rm(report, { force: true });
  if (last) writeFileSync(`${report}.snap`, '');
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  while (!existsSync(report)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not report its heap`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const heap = JSON.parse(readFileSync(report, 'utf8')) as {
    heapUsed: number;
    heapTotal: number;
    external: number;
    spaces: Record<string, number>;
  };
  return {
    ...(cgroup ? { cgroup } : {}),
    rssBytes: statusField(status, 'VmRSS'),
    peakRssBytes: statusField(status, 'VmHWM'),
    anonRssBytes: statusField(status, 'RssAnon'),
    fileRssBytes: statusField(status, 'RssFile'),
    shmemRssBytes: statusField(status, 'RssShmem'),
    heapUsedBytes: heap.heapUsed,
    heapTotalBytes: heap.heapTotal,
    externalBytes: heap.external,
    heapSpaces: heap.spaces,
    fileMappings: mappings,
    cpuSeconds: cpu,
  };
}

/** Resident pages of one file-backed mapping (or of several with the same file, permissions and offset). */
export interface FileMapping {
  /** `<file name> <perms> @0x<file offset>`, e.g. `nodeagent-kube-proxy r-xp @0x34a000` (its text). */
  mapping: string;
  rssBytes: number;
  sizeBytes: number;
}

/**
 * File-backed RSS per mapping from /proc/<pid>/smaps text, largest first. RssFile in
 * /proc/<pid>/status is one number; this says which file ranges it is (an executable's text,
 * its read-only data with ICU's tables and Node's own JS sources, a single executable's
 * injected script), since they answer to different fixes.
 */
export function fileMappings(smaps: string): FileMapping[] {
  const byKey = new Map<string, FileMapping>();
  for (const { start, end, perms, offset, name, bytes } of smapsMappings(smaps, 'Rss')) {
    // Anonymous mappings and the kernel's ([heap], [stack], …) have no path.
    if (!name.startsWith('/')) continue;
    const key = `${name.split('/').pop()} ${perms} @0x${BigInt(`0x${offset}`).toString(16)}`;
    const current = byKey.get(key) ?? { mapping: key, rssBytes: 0, sizeBytes: 0 };
    current.sizeBytes += Number(end - start);
    current.rssBytes += bytes;
    byKey.set(key, current);
  }
  return [...byKey.values()].filter((m) => m.rssBytes > 0).sort((a, b) => b.rssBytes - a.rssBytes);
}

/** fileMappings of a running process. */
export async function readFileMappings(pid: number): Promise<FileMapping[]> {
  return fileMappings(await readFile(`/proc/${pid}/smaps`, 'utf8'));
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/**
 * A process's memory in MiB, as the benchmarks report it: first its cgroup's working set and anon
 * (and the rest of CgroupMemorySummary) when it ran in a cgroup of its own, then VmRSS and its parts.
 */
export interface MemorySummary extends Partial<CgroupMemorySummary> {
  rssMiB: number;
  peakRssMiB: number;
  anonRssMiB: number;
  fileRssMiB: number;
  shmemRssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** Used size of each V8 heap space holding at least 0.1 MiB (old_space, code_space, new_space…). */
  heapSpacesMiB: Record<string, number>;
  /** File-backed mappings holding at least 1 MiB (see fileMappings). */
  fileMappingsMiB: Record<string, number>;
  /** ProcessMemory.cpuSeconds. */
  cpuSeconds: number;
}

/** The numbers a reader wants, in MiB. */
export function summary(m: ProcessMemory): MemorySummary {
  return {
    ...(m.cgroup ? cgroupSummary(m.cgroup) : {}),
    rssMiB: mib(m.rssBytes),
    peakRssMiB: mib(m.peakRssBytes),
    anonRssMiB: mib(m.anonRssBytes),
    fileRssMiB: mib(m.fileRssBytes),
    shmemRssMiB: mib(m.shmemRssBytes),
    heapUsedMiB: mib(m.heapUsedBytes),
    heapTotalMiB: mib(m.heapTotalBytes),
    externalMiB: mib(m.externalBytes),
    heapSpacesMiB: Object.fromEntries(
      Object.entries(m.heapSpaces)
        .map(([space, bytes]) => [space, mib(bytes)] as const)
        .filter(([, size]) => size >= 0.1),
    ),
    fileMappingsMiB: Object.fromEntries(
      m.fileMappings.filter((f) => f.rssBytes >= 1048576).map((f) => [f.mapping, mib(f.rssBytes)]),
    ),
    cpuSeconds: m.cpuSeconds,
  };
}

/** Polls `fn` until it returns something other than undefined. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits `ms` on a real timer. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The same-run baselines every daemon number is compared with, on the daemon's own node
 * binary: an idle bare `node -e`, and an idle process that only imports @kubernetes/client-node.
 */
export async function measureBaselines(
  node: string,
  repoRoot: string,
  dir: string,
): Promise<Record<string, ProcessMemory>> {
  const { spawn } = await import('node:child_process');
  const idle = "process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);";
  const scripts: Record<string, string> = {
    bareNode: idle,
    clientNodeImport: `require('@kubernetes/client-node'); ${idle}`,
  };
  const out: Record<string, ProcessMemory> = {};
  for (const [name, script] of Object.entries(scripts)) {
    const env = reporterEnv(dir, name);
    const child = spawn(node, ['-e', script], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      // Measured a while after the import finished, like the daemons after their work.
      await new Promise((resolve) => child.stdout?.once('data', resolve));
      await sleep(3000);
      out[name] = await measureProcess(child.pid as number, env);
    } finally {
      child.kill('SIGKILL');
    }
  }
  return out;
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, 100 ticks a second). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
