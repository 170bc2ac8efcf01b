import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Memory of a process as the node charges it: the process runs in a memory cgroup of its own,
// and the figures are the cgroup's, as the kubelet's summary API, cAdvisor and systemd read them
// (usage, and the working set: usage less the inactive file pages, what evictions and
// `kubectl top` go by), with PSS and VmRSS of its processes beside them. VmRSS alone misses the
// page cache a process reads (charged to its cgroup whether or not the pages stay mapped).

/** The host's memory controller: cgroup v2's unified hierarchy, or cgroup v1's memory hierarchy. */
export type CgroupVersion = 'v1' | 'v2';

/** Where memory cgroups can be made: the version and the directory new ones go under. */
export interface CgroupParent {
  version: CgroupVersion;
  /** The cgroup this process is in (a child of it is writable when this process may write there). */
  dir: string;
}

/** No writable memory cgroup on this host (not root, no memory controller, or not delegated). */
export class CgroupUnavailableError extends Error {
  override readonly name = 'CgroupUnavailableError';
  readonly code = 'CGROUP_UNAVAILABLE';
}

/** A memory cgroup's figures and its processes', in bytes. */
export interface CgroupMemory {
  /** memory.current (v2) or memory.usage_in_bytes (v1): everything charged, page cache included. */
  usageBytes: number;
  /** usage − inactive_file, floored at 0: container_memory_working_set_bytes as cAdvisor and the kubelet compute it. */
  workingSetBytes: number;
  /** memory.stat anon (v2) or total_rss (v1): heap, malloc arenas, stacks. */
  anonBytes: number;
  /** memory.stat file (v2) or total_cache (v1): page cache charged here (the executable's pages read, files written). */
  fileBytes: number;
  /** memory.stat inactive_file (v2) or total_inactive_file (v1). */
  inactiveFileBytes: number;
  /**
   * Kernel memory charged here, part of usage and so of the working set: slab (dentries and
   * inodes of files the process made, nf_tables objects a ruleset it sent holds), page tables,
   * kernel stacks, socket buffers. memory.stat `kernel` (v2; its parts summed where the kernel
   * predates that field) or memory.kmem.usage_in_bytes (v1); 0 where the host does not account it.
   */
  kernelBytes: number;
  /** Sum of the processes' Pss (/proc/<pid>/smaps_rollup): shared pages split among their users. */
  pssBytes: number;
  /** Sum of the processes' VmRSS (/proc/<pid>/status). */
  vmRssBytes: number;
  /** The processes in the cgroup when it was read. */
  pids: number[];
}

const ROOT = '/sys/fs/cgroup';

/** This process's cgroup path in the hierarchy that holds the memory controller, from /proc/self/cgroup text. */
export function ownCgroupPath(procSelfCgroup: string, version: CgroupVersion): string {
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    if (version === 'v2' && controllers === '') return path;
    if (version === 'v1' && controllers?.split(',').includes('memory')) return path;
  }
  throw new CgroupUnavailableError(`/proc/self/cgroup has no ${version === 'v2' ? '0::' : 'memory'} line`);
}

/** Which memory controller this host has and the cgroup new children go under (`root`: tests). */
export function cgroupParent(root = ROOT, procSelfCgroup?: string): CgroupParent {
  const self = () => procSelfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8');
  const unified = join(root, 'cgroup.controllers');
  if (existsSync(unified) && readFileSync(unified, 'utf8').split(/\s+/).includes('memory'))
    return { version: 'v2', dir: join(root, ownCgroupPath(self(), 'v2')) };
  if (existsSync(join(root, 'memory', 'memory.usage_in_bytes')))
    return { version: 'v1', dir: join(root, 'memory', ownCgroupPath(self(), 'v1')) };
  throw new CgroupUnavailableError(
    `no memory controller under ${root} (neither cgroup v2 with "memory" in cgroup.controllers nor a v1 memory hierarchy)`,
  );
}

/** v2 memory.stat's parts of `kernel`, for kernels before that field (5.18). */
const V2_KERNEL_PARTS = ['slab', 'kernel_stack', 'pagetables', 'sec_pagetables', 'percpu', 'sock', 'vmalloc'];

/**
 * Every field of memory.stat text by name, as the kernel writes it: bytes for sizes, a count for
 * events (`workingset_refault_file`: pages read back soon after they were evicted).
 */
export function memoryStatFields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value !== undefined) fields.set(key, Number(value));
  }
  return fields;
}

/**
 * anon, file and inactive_file of memory.stat text, in bytes (v1: the hierarchical total_*
 * fields), and on v2 the kernel memory (v1's memory.stat has none: memory.kmem.usage_in_bytes).
 */
export function parseMemoryStat(
  text: string,
  version: CgroupVersion,
): { anonBytes: number; fileBytes: number; inactiveFileBytes: number; kernelBytes?: number } {
  const fields = memoryStatFields(text);
  const names =
    version === 'v2'
      ? { anon: 'anon', file: 'file', inactive: 'inactive_file' }
      : { anon: 'total_rss', file: 'total_cache', inactive: 'total_inactive_file' };
  const get = (name: string) => {
    const v = fields.get(name);
    if (v === undefined) throw new CgroupUnavailableError(`memory.stat has no ${name}`);
    return v;
  };
  const parsed = {
    anonBytes: get(names.anon),
    fileBytes: get(names.file),
    inactiveFileBytes: get(names.inactive),
  };
  if (version === 'v1') return parsed;
  const kernelBytes =
    fields.get('kernel') ?? V2_KERNEL_PARTS.reduce((sum, name) => sum + (fields.get(name) ?? 0), 0);
  return { ...parsed, kernelBytes };
}

/** cAdvisor's working set: usage less inactive file pages, never below 0. */
export const workingSet = (usageBytes: number, inactiveFileBytes: number): number =>
  Math.max(0, usageBytes - inactiveFileBytes);

/** A `kB` line of /proc text (`Pss:`, `VmRSS:`) in bytes; 0 when the process is gone or has none (a zombie). */
async function procKb(path: string, field: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

const NAME_PREFIX = 'nodeagent-bench-';
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** MemoryCgroup.fileRefaults: memory.stat's refault counts, in bytes. */
export interface FileRefaults {
  refaultedBytes: number;
  activatedBytes?: number;
}

let pageSize: number | undefined;
/** The kernel's page size in bytes (memory.stat counts events in pages), asked once. */
function pageBytes(): number {
  pageSize ??= Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
  return pageSize;
}

/** A memory cgroup made for one bench process; remove() it when done (also on failure). */
export class MemoryCgroup {
  private constructor(
    readonly version: CgroupVersion,
    readonly dir: string,
    private readonly parentDir: string,
  ) {}

  /**
   * Makes `nodeagent-bench-<purpose>-<pid>-<random>` under this process's own cgroup (removing
   * any such cgroup left empty by a bench process that died).
   */
  static create(purpose: string, parent: CgroupParent = cgroupParent()): MemoryCgroup {
    if (!/^[a-z0-9-]+$/.test(purpose))
      throw new CgroupUnavailableError(`cgroup purpose "${purpose}": use lowercase letters, digits and -`);
    removeStale(parent.dir);
    if (parent.version === 'v2') enableMemoryController(parent.dir);
    const dir = join(
      parent.dir,
      `${NAME_PREFIX}${purpose}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    );
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new CgroupUnavailableError(
        `cannot make a memory cgroup under ${parent.dir} (${(err as NodeJS.ErrnoException).code}): run as root on a host whose cgroup is writable`,
      );
    }
    return new MemoryCgroup(parent.version, dir, parent.dir);
  }

  /**
   * The command line that runs `command` inside this cgroup from its first instruction on: a
   * shell writes its own pid into cgroup.procs, then execs the command (same pid), so every page
   * the command touches, its executable's included, is charged here.
   */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return {
      command: 'sh',
      args: ['-c', 'echo $$ > "$0" && exec "$@"', join(this.dir, 'cgroup.procs'), command, ...args],
    };
  }

  /** Moves a running process in (on v1 its earlier charges stay where they were). */
  add(pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), `${pid}\n`);
  }

  /** The processes in the cgroup now. */
  pids(): number[] {
    return readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  }

  /**
   * Has the kernel reclaim all it can from this cgroup now, as under memory pressure: page cache,
   * and reclaimable slab such as the dentries of removed files; anon stays (without swap).
   * memory.reclaim (v2, kernels from 5.19; its EAGAIN when less than asked could go is the
   * expected answer) or memory.force_empty (v1). Slab is freed after an RCU grace period, so
   * kernel memory falls a moment after this returns.
   */
  reclaim(): void {
    if (this.version === 'v1') {
      writeFileSync(join(this.dir, 'memory.force_empty'), '0');
      return;
    }
    const usage = readFileSync(join(this.dir, 'memory.current'), 'utf8').trim();
    try {
      writeFileSync(join(this.dir, 'memory.reclaim'), usage);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return;
      throw new CgroupUnavailableError(
        `cannot reclaim memory from ${this.dir} (${code}): memory.reclaim needs Linux 5.19 or later`,
      );
    }
  }

  /** memory.stat's fields now (memoryStatFields). */
  statFields(): Map<string, number> {
    return memoryStatFields(readFileSync(join(this.dir, 'memory.stat'), 'utf8'));
  }

  /**
   * File pages read back soon after the kernel evicted them, since the cgroup was made (refaulted),
   * and of those the ones put straight on the active list as still in use (activated, and so in
   * the working set; cgroup v2 only), in bytes; undefined where the kernel counts neither.
   */
  fileRefaults(): FileRefaults | undefined {
    const fields = this.statFields();
    const refaulted = fields.get('workingset_refault_file');
    if (refaulted === undefined) return undefined;
    const activated = fields.get('workingset_activate_file');
    const bytes = pageBytes();
    return {
      refaultedBytes: refaulted * bytes,
      ...(activated === undefined ? {} : { activatedBytes: activated * bytes }),
    };
  }

  /** The cgroup's memory now, and its processes' PSS and VmRSS. */
  read(): Promise<CgroupMemory> {
    return readCgroup(this.dir, this.version);
  }

  /**
   * Removes the cgroup: processes still in it move to the parent first (the caller stops them;
   * this never kills), then rmdir, retried while the kernel still counts an exiting process.
   */
  async remove(): Promise<void> {
    if (!existsSync(this.dir)) return;
    for (const pid of this.pids()) {
      try {
        writeFileSync(join(this.parentDir, 'cgroup.procs'), `${pid}\n`);
      } catch {
        // Exited meanwhile.
      }
    }
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/** A memory cgroup's figures (its directory and the hierarchy's version). */
export async function readCgroup(dir: string, version: CgroupVersion): Promise<CgroupMemory> {
  const file = (name: string) => readFile(join(dir, name), 'utf8');
  const [usage, stat, procs] = await Promise.all([
    file(version === 'v2' ? 'memory.current' : 'memory.usage_in_bytes'),
    file('memory.stat'),
    file('cgroup.procs'),
  ]);
  const usageBytes = Number(usage.trim());
  const { anonBytes, fileBytes, inactiveFileBytes, kernelBytes } = parseMemoryStat(stat, version);
  const kmem = kernelBytes ?? Number((await file('memory.kmem.usage_in_bytes').catch(() => '0')).trim());
  const pids = procs.split('\n').filter(Boolean).map(Number);
  let pssBytes = 0;
  let vmRssBytes = 0;
  for (const pid of pids) {
    pssBytes += await procKb(`/proc/${pid}/smaps_rollup`, 'Pss');
    vmRssBytes += await procKb(`/proc/${pid}/status`, 'VmRSS');
  }
  return {
    usageBytes,
    workingSetBytes: workingSet(usageBytes, inactiveFileBytes),
    anonBytes,
    fileBytes,
    inactiveFileBytes,
    kernelBytes: kmem,
    pssBytes,
    vmRssBytes,
    pids,
  };
}

/**
 * The memory cgroup `pid` runs in when a bench made it (MemoryCgroup: `nodeagent-bench-*`), read;
 * undefined for a process in any other cgroup (its figures would be its neighbours' too).
 */
export async function readBenchCgroupOf(pid: number, root = ROOT): Promise<CgroupMemory | undefined> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  for (const version of ['v2', 'v1'] as const) {
    let path: string;
    try {
      path = ownCgroupPath(text, version);
    } catch {
      continue;
    }
    if (!(path.split('/').pop() ?? '').startsWith(NAME_PREFIX)) continue;
    const dir = version === 'v2' ? join(root, path) : join(root, 'memory', path);
    if (existsSync(join(dir, 'memory.stat'))) return readCgroup(dir, version);
  }
  return undefined;
}

/** Removes empty `nodeagent-bench-*-<pid>-*` cgroups whose bench process is gone. */
function removeStale(parentDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parentDir);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = new RegExp(`^${NAME_PREFIX}[a-z0-9-]+-(\\d+)-[a-z0-9]+$`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      rmdirSync(join(parentDir, name));
    } catch {
      // Still holds processes: left alone.
    }
  }
}

/** cgroup v2: children get a memory.current only when the parent delegates the controller. */
function enableMemoryController(dir: string): void {
  const control = join(dir, 'cgroup.subtree_control');
  if (readFileSync(control, 'utf8').split(/\s+/).includes('memory')) return;
  try {
    writeFileSync(control, '+memory');
  } catch (err) {
    // EBUSY: the cgroup holds processes itself ("no internal processes"); run the bench from a
    // cgroup that delegates memory (e.g. systemd-run --scope -p Delegate=yes).
    throw new CgroupUnavailableError(
      `cannot enable the memory controller for children of ${dir} (${(err as NodeJS.ErrnoException).code}): run the bench in a delegated cgroup (systemd-run --scope -p Delegate=yes)`,
    );
  }
}

/**
 * Drops `file`'s pages from the page cache (written back first: `sync FILE`, then GNU dd's
 * nocache), so the next process to read it is charged for them as on a freshly booted node, not
 * the build that wrote them. Pages a running process maps stay (and stay charged to its cgroup).
 */
export function dropFromPageCache(file: string): void {
  execFileSync('sync', [file]);
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** MiB with one decimal, the benches' unit. */
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** The figures a bench reports, in MiB: working set and anon first, VmRSS beside. */
export interface CgroupMemorySummary {
  workingSetMiB: number;
  anonMiB: number;
  usageMiB: number;
  fileMiB: number;
  inactiveFileMiB: number;
  kernelMiB: number;
  pssMiB: number;
  vmRssMiB: number;
}

/** A reading in MiB, the working set and anon first, as the benches report it. */
export function cgroupSummary(m: CgroupMemory): CgroupMemorySummary {
  return {
    workingSetMiB: mib(m.workingSetBytes),
    anonMiB: mib(m.anonBytes),
    usageMiB: mib(m.usageBytes),
    fileMiB: mib(m.fileBytes),
    inactiveFileMiB: mib(m.inactiveFileBytes),
    kernelMiB: mib(m.kernelBytes),
    pssMiB: mib(m.pssBytes),
    vmRssMiB: mib(m.vmRssBytes),
  };
}

/**
 * A MemoryCgroup for a bench's process where this host allows one; otherwise undefined, the
 * reason on stderr (the bench then reports VmRSS alone, and its JSON shows no working set).
 */
export function tryCreate(purpose: string): MemoryCgroup | undefined {
  try {
    return MemoryCgroup.create(purpose);
  } catch (err) {
    if (!(err instanceof CgroupUnavailableError)) throw err;
    process.stderr.write(`no memory cgroup for ${purpose}: ${err.message}\n`);
    return undefined;
  }
}
