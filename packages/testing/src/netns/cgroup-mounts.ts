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
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const fsType = line.slice(separator + 3).split(' ')[0];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const [, , , root, point] = line.slice(0, separator).split(' ');
    if (!root || !point || seen.has(point)) continue;
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
