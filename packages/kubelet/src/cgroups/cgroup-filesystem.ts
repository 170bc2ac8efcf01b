import { access, mkdir, readdir, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPseudoFile } from '@nodeagent/primitives/pseudo-file';
import { CgroupError } from './cgroup-errors';
import { type CgroupResources, cpuSharesToWeight } from './cgroup-resources';

/**
 * The cgroup filesystem as the kubelet uses it: directories named by path relative to the
 * hierarchy root ("/kubepods/burstable/pod<uid>"). Two implementations: cgroup v2 (one unified
 * tree) and v1 (one tree per controller, the layout of this machine). The mount root is
 * injected so unit tests can run against a temporary directory.
 */
export interface CgroupFilesystem {
  readonly version: 1 | 2;
  /** Creates the cgroup (and missing ancestors) and applies the resources. */
  ensure(path: string, resources?: CgroupResources): Promise<void>;
  /** Whether the cgroup at `path` (relative to the mount root) exists. */
  exists(path: string): Promise<boolean>;
  /** Names of the child cgroups (directories) of path; empty when it does not exist. */
  children(path: string): Promise<string[]>;
  /** Removes the cgroup and any children left in it (deepest first); absent is fine. */
  remove(path: string): Promise<void>;
  /** Reads a cgroup file ("pids.max", "memory.max"...), from the controller's tree on v1. */
  read(path: string, file: string): Promise<string>;
}

/** Where the cgroup filesystem is mounted on a Linux node. */
export const defaultCgroupMountRoot = '/sys/fs/cgroup';

/** Picks v2 when the mount root is a unified hierarchy (has cgroup.controllers), v1 otherwise. */
export async function detectCgroupFilesystem(mountRoot = defaultCgroupMountRoot): Promise<CgroupFilesystem> {
  const unified = await access(join(mountRoot, 'cgroup.controllers')).then(
    () => true,
    () => false,
  );
  return unified ? new CgroupV2Filesystem(mountRoot) : new CgroupV1Filesystem(mountRoot);
}

async function writeValue(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (error) {
    throw new CgroupError(join(dir, file), value, `write failed: ${(error as Error).message}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

/** statfs f_type of cgroup v1 and v2 mounts. */
const cgroupMagic = new Set([0x27e0eb, 0x63677270]);

/**
 * rmdir bottom-up: a cgroup directory can only be removed once it has no children (its files
 * are virtual and go with it). A plain directory tree standing in for cgroupfs in tests holds
 * real files, which are removed first.
 */
async function removeTree(dir: string): Promise<void> {
  if (!(await isDirectory(dir))) return;
  for (const child of await subdirectories(dir)) await removeTree(join(dir, child));
  try {
    const onCgroupfs = cgroupMagic.has(Number((await statfs(dir)).type));
    if (onCgroupfs) await rmdir(dir);
    else await rm(dir, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new CgroupError('cgroup', dir, `rmdir failed: ${(error as Error).message}`);
  }
}

/** cgroup v2: one tree; controllers must be enabled in every ancestor's cgroup.subtree_control. */
export class CgroupV2Filesystem implements CgroupFilesystem {
  readonly version = 2 as const;
  private rootControllers: Promise<string[]> | undefined;
  constructor(readonly mountRoot: string) {}

  /** The controllers the hierarchy offers (the root's cgroup.controllers), read once. */
  private controllers(): Promise<string[]> {
    this.rootControllers ??= readPseudoFile(join(this.mountRoot, 'cgroup.controllers')).then(
      (text) => text.split(/\s+/).filter((name) => name !== ''),
      () => [],
    );
    return this.rootControllers;
  }

  /**
   * Delegates every controller the root offers to dir's children, as upstream's libcontainer
   * does for each ancestor it creates: all at once, else one at a time, since a single
   * controller the kernel refuses there (one the parent lacks, cpu beside realtime tasks…) fails
   * the whole write and would leave cpu and memory off too. Failures are left for the limit
   * writes to report.
   */
  private async delegate(dir: string): Promise<void> {
    const controllers = await this.controllers();
    if (controllers.length === 0) return;
    const all = controllers.map((name) => `+${name}`);
    const wrote = await writeValue(dir, 'cgroup.subtree_control', all.join(' ')).then(
      () => true,
      () => false,
    );
    if (wrote) return;
    for (const one of all) await writeValue(dir, 'cgroup.subtree_control', one).catch(() => undefined);
  }

  async ensure(path: string, resources: CgroupResources = {}): Promise<void> {
    const parts = path.split('/').filter((part) => part !== '');
    let dir = this.mountRoot;
    for (const part of parts) {
      await this.delegate(dir);
      dir = join(dir, part);
      await mkdir(dir, { recursive: true });
    }
    if (resources.cpuShares !== undefined)
      await writeValue(dir, 'cpu.weight', String(cpuSharesToWeight(resources.cpuShares)));
    if (resources.cpuQuotaUs !== undefined || resources.cpuPeriodUs !== undefined) {
      const quota =
        resources.cpuQuotaUs === undefined || resources.cpuQuotaUs < 0 ? 'max' : String(resources.cpuQuotaUs);
      await writeValue(dir, 'cpu.max', `${quota} ${resources.cpuPeriodUs ?? 100_000}`);
    }
    if (resources.memoryLimitBytes !== undefined)
      await writeValue(
        dir,
        'memory.max',
        resources.memoryLimitBytes < 0 ? 'max' : String(resources.memoryLimitBytes),
      );
    if (resources.pidsLimit !== undefined)
      await writeValue(dir, 'pids.max', resources.pidsLimit < 0 ? 'max' : String(resources.pidsLimit));
    for (const [file, value] of Object.entries(resources.unified ?? {})) await writeValue(dir, file, value);
  }

  exists(path: string): Promise<boolean> {
    return isDirectory(join(this.mountRoot, path));
  }

  children(path: string): Promise<string[]> {
    return subdirectories(join(this.mountRoot, path));
  }

  remove(path: string): Promise<void> {
    return removeTree(join(this.mountRoot, path));
  }

  async read(path: string, file: string): Promise<string> {
    return (await readPseudoFile(join(this.mountRoot, path, file))).trim();
  }
}

/** Which v1 hierarchy holds each file the kubelet writes. */
const v1Controllers = { cpu: 'cpu', memory: 'memory', pids: 'pids' } as const;

function v1ControllerOf(file: string): string {
  const prefix = file.split('.')[0]!;
  return prefix in v1Controllers ? v1Controllers[prefix as keyof typeof v1Controllers] : prefix;
}

/**
 * cgroup v1: one hierarchy per controller under the mount root (cpu/, memory/, pids/, ...). The
 * kubelet creates its cgroups in every mounted hierarchy so that the runtime finds the parent
 * everywhere, and writes each limit in its controller's tree.
 */
export class CgroupV1Filesystem implements CgroupFilesystem {
  readonly version = 1 as const;
  constructor(readonly mountRoot: string) {}

  private async hierarchies(): Promise<string[]> {
    return subdirectories(this.mountRoot);
  }

  async ensure(path: string, resources: CgroupResources = {}): Promise<void> {
    for (const hierarchy of await this.hierarchies()) {
      if (hierarchy === 'unified') continue; // the hybrid layout's v2 tree holds no controllers
      await mkdir(join(this.mountRoot, hierarchy, path), { recursive: true });
    }
    const cpu = join(this.mountRoot, v1Controllers.cpu, path);
    if (resources.cpuShares !== undefined) await writeValue(cpu, 'cpu.shares', String(resources.cpuShares));
    // The period first: the kernel checks the quota against the current period.
    if (resources.cpuPeriodUs !== undefined)
      await writeValue(cpu, 'cpu.cfs_period_us', String(resources.cpuPeriodUs));
    if (resources.cpuQuotaUs !== undefined)
      await writeValue(cpu, 'cpu.cfs_quota_us', String(resources.cpuQuotaUs < 0 ? -1 : resources.cpuQuotaUs));
    if (resources.memoryLimitBytes !== undefined)
      await writeValue(
        join(this.mountRoot, v1Controllers.memory, path),
        'memory.limit_in_bytes',
        String(resources.memoryLimitBytes < 0 ? -1 : resources.memoryLimitBytes),
      );
    if (resources.pidsLimit !== undefined)
      await writeValue(
        join(this.mountRoot, v1Controllers.pids, path),
        'pids.max',
        resources.pidsLimit < 0 ? 'max' : String(resources.pidsLimit),
      );
  }

  async exists(path: string): Promise<boolean> {
    // The memory hierarchy is always present on a kubelet node; fall back to any hierarchy.
    for (const hierarchy of [v1Controllers.memory, ...(await this.hierarchies())]) {
      if (await isDirectory(join(this.mountRoot, hierarchy, path))) return true;
    }
    return false;
  }

  async children(path: string): Promise<string[]> {
    const names = new Set<string>();
    for (const hierarchy of await this.hierarchies()) {
      for (const name of await subdirectories(join(this.mountRoot, hierarchy, path))) names.add(name);
    }
    return [...names].sort();
  }

  async remove(path: string): Promise<void> {
    for (const hierarchy of await this.hierarchies()) await removeTree(join(this.mountRoot, hierarchy, path));
  }

  async read(path: string, file: string): Promise<string> {
    return (await readPseudoFile(join(this.mountRoot, v1ControllerOf(file), path, file))).trim();
  }
}
