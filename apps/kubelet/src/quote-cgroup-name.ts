import type { CgroupName } from '@nodeagent/kubelet/cgroups';

/** Go's %q of a CgroupName (a []string), as upstream's cgroup errors print it: ["system"]. */
export function quoteCgroupName(name: CgroupName): string {
  return `[${name.map((part) => JSON.stringify(part)).join(' ')}]`;
}
