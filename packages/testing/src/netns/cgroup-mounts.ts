import { parseMountinfo } from './mountinfo';

/** A mounted cgroup hierarchy: where it is mounted, and which of its cgroups is the mount's root. */
export interface CgroupMount {
  /** Mount point, e.g. /sys/fs/cgroup/memory (v1) or /sys/fs/cgroup (v2). */
  point: string;
  /** The cgroup at the mount point ("/" unless the mount shows only part of the hierarchy). */
  root: string;
}

/** The cgroup (v1, one per controller set) and cgroup2 mounts of /proc/self/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  const seen = new Set<string>();
  for (const { root, point, fsType } of parseMountinfo(mountinfo)) {
    if ((fsType !== 'cgroup' && fsType !== 'cgroup2') || seen.has(point)) continue;
    seen.add(point);
    mounts.push({ point, root });
  }
  return mounts;
}

/** Where cgroup `path` (absolute in its hierarchy) is under each mount that shows it. */
export function cgroupDirs(path: string, mounts: readonly CgroupMount[]): string[] {
  const dirs: string[] = [];
  for (const { point, root } of mounts) {
    const base = root === '/' ? '' : root;
    if (base && path !== base && !path.startsWith(`${base}/`)) continue;
    dirs.push(`${point}${path.slice(base.length)}`.replace(/\/+$/, '') || '/');
  }
  return dirs;
}
