import { join } from 'node:path';
import type { Pod } from '@nodeagent/kubelet/api';
import type { CgroupV2Filesystem, PodCgroupManager } from '@nodeagent/kubelet/cgroups';
import type { PodCgroupDirs } from '@nodeagent/kubelet/stats';

/**
 * Where each pod's cgroup is, for the summary's pressure (PSI) figures: containerd 1.6's stats
 * carry none, so they are read from the pod and container cgroups. Only on cgroup v2, and only
 * with pod cgroups (cgroupsPerQOS): v1 has no pressure files, and cAdvisor reports none there.
 */
export function podCgroupDirs(
  cgroups: PodCgroupManager | undefined,
  pod: (uid: string) => Pod | undefined,
): PodCgroupDirs | undefined {
  if (cgroups?.fs.version !== 2) return undefined;
  const mountRoot = (cgroups.fs as CgroupV2Filesystem).mountRoot;
  return {
    podDir: (uid) => {
      const known = pod(uid);
      return known && join(mountRoot, cgroups.podCgroupPath(known));
    },
  };
}
