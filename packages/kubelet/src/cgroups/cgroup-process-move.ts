import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { systemReason } from '@nodeagent/primitives';
import { CgroupV2Filesystem } from './cgroup-filesystem';

/**
 * A process moved into a cgroup named by its cgroupfs path, created when missing: what upstream's
 * container manager does for kubeletCgroups and systemCgroups through libcontainer's cgroupfs
 * managers (Parent "/", SkipDevices, never the systemd driver: the names are cgroupfs paths
 * whatever cgroupDriver says). The mount root is injected so tests use a temporary directory.
 */
export interface CgroupHierarchy {
  /** The cgroup mount ("/sys/fs/cgroup"): the unified tree, or the directory of the v1 trees. */
  readonly mountRoot: string;
  readonly version: 1 | 2;
}

/** How a pid is written into cgroup.procs; injectable so tests can stand for the kernel's refusals. */
export type ProcsWriter = (file: string, pid: string) => Promise<void>;

/** The kernel's cgroup.procs takes one pid per write; a plain file (tests) is simply replaced. */
export const writeProcs: ProcsWriter = (file, pid) => writeFile(file, pid);

/**
 * A failed cgroup file call as Go's os.PathError prints it. libcontainer opens cgroup files
 * with openat2 (kernels from 5.6), so a failed open reads `openat2 <path>: …`.
 */
export function cgroupPathError(error: unknown): string {
  const e = (error ?? {}) as NodeJS.ErrnoException;
  const op = e.syscall === 'open' ? 'openat2' : e.syscall;
  return op && e.path ? `${op} ${e.path}: ${systemReason(error)}` : systemReason(error);
}

/**
 * The cgroup's path inside a tree, as libcontainer's innerPath makes it: always under "/" (a
 * relative name cannot climb out with "..").
 */
export function innerCgroupPath(name: string): string {
  return posix.normalize(`/${name}`).replace(/\/+$/, '') || '/';
}

/**
 * libcontainer's WriteCgroupProc: `failed to write <pid>: <path error>`. A v2 cgroup whose
 * cgroup.subtree_control delegates a domain controller (memory, io) holds no processes: the
 * kernel answers EBUSY (threaded ones alone, pids or cpu, do not stop it).
 */
async function writeCgroupProc(dir: string, pid: number, write: ProcsWriter): Promise<void> {
  const file = join(dir, 'cgroup.procs');
  try {
    await write(file, String(pid));
  } catch (error) {
    // A refused write (EBUSY) comes from Node without the file's path; Go's PathError names it.
    const e = error as NodeJS.ErrnoException;
    if (e.syscall && !e.path) e.path = file;
    throw new Error(`failed to write ${pid}: ${cgroupPathError(e)}`);
  }
}

/** A mkdir failure as Go's os.Mkdir reports it (`mkdir <path>: permission denied`). */
async function makeDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((error) => {
    throw new Error(cgroupPathError(error));
  });
}

/**
 * cgroup v2 (libcontainer fs2 Apply): every level created, all the root's controllers delegated
 * in each ancestor's cgroup.subtree_control (refusals ignored), then the pid written.
 */
async function moveV2(hierarchy: CgroupHierarchy, name: string, pid: number, write: ProcsWriter) {
  const inner = innerCgroupPath(name);
  try {
    await new CgroupV2Filesystem(hierarchy.mountRoot).ensure(inner);
  } catch (error) {
    throw new Error(cgroupPathError(error));
  }
  await writeCgroupProc(join(hierarchy.mountRoot, inner), pid, write);
}

/**
 * The v1 trees libcontainer's cgroupfs manager joins, in its order (devices left out: the
 * container manager's cgroups set SkipDevices). `systemd` is the name=systemd tree.
 */
const v1Subsystems = [
  'cpuset',
  'memory',
  'cpu',
  'cpuacct',
  'pids',
  'blkio',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'freezer',
  'rdma',
  'systemd',
  'misc',
];

/** Each mounted v1 subsystem's tree directory ("cpu" → "cpu,cpuacct"), in libcontainer's order. */
async function v1Trees(mountRoot: string): Promise<string[]> {
  const entries = await readdir(mountRoot, { withFileTypes: true });
  const dirs = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const trees: string[] = [];
  for (const subsystem of v1Subsystems) {
    const dir = dirs.find((d) => d.split(',').includes(subsystem));
    if (dir !== undefined) trees.push(dir);
  }
  return trees;
}

/**
 * cpuset on v1: a new cgroup starts with empty cpuset.cpus and cpuset.mems and takes no task
 * until they are set, so each level below the tree's root copies its parent's (libcontainer's
 * cpusetEnsureParent and ensureCpusAndMems).
 */
async function ensureCpuset(treeRoot: string, inner: string): Promise<void> {
  let dir = treeRoot;
  for (const part of inner.split('/').filter((p) => p !== '')) {
    const parent = dir;
    dir = join(dir, part);
    await makeDirectory(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = await readFile(join(dir, file), 'utf8').catch(() => '');
      if (own.trim() !== '') continue;
      const inherited = await readFile(join(parent, file), 'utf8').catch(() => '');
      if (inherited.trim() !== '') await writeFile(join(dir, file), inherited.trim());
    }
  }
}

/** cgroup v1 (libcontainer fs Apply): created and joined in each tree, stopping at the first failure. */
async function moveV1(hierarchy: CgroupHierarchy, name: string, pid: number, write: ProcsWriter) {
  const inner = innerCgroupPath(name);
  for (const tree of await v1Trees(hierarchy.mountRoot)) {
    const treeRoot = join(hierarchy.mountRoot, tree);
    const dir = join(treeRoot, inner);
    if (tree.split(',').includes('cpuset')) await ensureCpuset(treeRoot, inner);
    else await makeDirectory(dir);
    await writeCgroupProc(dir, pid, write);
  }
}

/**
 * Moves `pid` into the cgroup `name` (a cgroupfs path such as "/kubelet.slice"), creating it
 * first, as libcontainer's Manager.Apply. Throws upstream's error text.
 */
export function moveProcessToCgroup(
  hierarchy: CgroupHierarchy,
  name: string,
  pid: number,
  write: ProcsWriter = writeProcs,
): Promise<void> {
  return hierarchy.version === 2 ? moveV2(hierarchy, name, pid, write) : moveV1(hierarchy, name, pid, write);
}
