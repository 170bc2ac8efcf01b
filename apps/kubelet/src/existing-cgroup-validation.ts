import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupName } from '@nodeagent/kubelet/cgroups';
import { goPathError } from '@nodeagent/primitives';
import { quoteCgroupName } from './quote-cgroup-name';

/** The v2 controllers upstream's cgroup manager needs a cgroup to have (getSupportedUnifiedControllers). */
const unifiedControllers = ['cpu', 'cpuset', 'memory', 'hugetlb', 'pids'];

/**
 * The v1 controllers whose hierarchies upstream checks (Validate's allowlist; hugetlb only where
 * mounted), in this order here: upstream walks a Go map, so its order varies from run to run.
 */
const v1Controllers = ['cpu', 'cpuacct', 'cpuset', 'memory', 'systemd', 'pids', 'hugetlb'];

/** Which cgroup, where: the name for messages, its directory below each hierarchy's root. */
export interface ExistingCgroup {
  name: CgroupName;
  /** Relative to the mount root, as the driver spells it ("/system.slice", "/system"). */
  path: string;
}

async function controllersOf(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter((c) => c !== '');
}

/**
 * cgroup v2 (upstream cgroupV2impl.Validate): the cgroup's cgroup.controllers must list every
 * controller the kubelet uses that the root offers.
 */
async function validateUnified(mountRoot: string, cgroup: ExistingCgroup): Promise<string | undefined> {
  const needed = (await controllersOf(mountRoot).catch(() => [])).filter((c) =>
    unifiedControllers.includes(c),
  );
  let enabled: string[];
  try {
    enabled = await controllersOf(join(mountRoot, cgroup.path));
  } catch (error) {
    return `could not read controllers for cgroup ${quoteCgroupName(cgroup.name)}: ${goPathError(error)}`;
  }
  const missing = needed.filter((c) => !enabled.includes(c)).sort();
  if (missing.length === 0) return undefined;
  return `cgroup ${quoteCgroupName(cgroup.name)} has some missing controllers: ${missing.join(', ')}`;
}

/**
 * The v1 hierarchy of each controller: a directory under the mount root per mount, named by its
 * controllers ("cpu,cpuacct", "memory", "systemd" for name=systemd). Symlinks such as cpu →
 * cpu,cpuacct are not mounts and are skipped, as upstream keeps the shortest mount point.
 */
async function v1Hierarchies(mountRoot: string): Promise<Map<string, string>> {
  const entries = await readdir(mountRoot, { withFileTypes: true }).catch(() => []);
  const byController = new Map<string, string>();
  for (const entry of entries.filter((e) => e.isDirectory() && e.name !== 'unified'))
    for (const controller of entry.name.split(',')) byController.set(controller, join(mountRoot, entry.name));
  return byController;
}

/** cgroup v1 (upstream cgroupV1impl.Validate): the directory must exist in each controller's hierarchy. */
async function validateV1(mountRoot: string, cgroup: ExistingCgroup): Promise<string | undefined> {
  const hierarchies = await v1Hierarchies(mountRoot);
  const missing: string[] = [];
  for (const controller of v1Controllers) {
    const hierarchy = hierarchies.get(controller);
    if (hierarchy === undefined) continue;
    const dir = join(hierarchy, cgroup.path);
    const present = await stat(dir).then(
      () => true,
      () => false,
    );
    if (!present) missing.push(dir);
  }
  if (missing.length === 0) return undefined;
  return `cgroup ${quoteCgroupName(cgroup.name)} has some missing paths: ${missing.join(', ')}`;
}

/**
 * Upstream's cgroup manager Validate before it updates a cgroup it did not create: undefined when
 * the cgroup is there with what the kubelet needs, else upstream's error text.
 */
export function validateExistingCgroup(
  version: 1 | 2,
  mountRoot: string,
  cgroup: ExistingCgroup,
): Promise<string | undefined> {
  return version === 2 ? validateUnified(mountRoot, cgroup) : validateV1(mountRoot, cgroup);
}
