import type { CgroupDriverName, CgroupName } from '@nodeagent/kubelet/cgroups';

/**
 * A cgroup named in the configuration (systemReservedCgroup, kubeReservedCgroup) as a CgroupName,
 * the way upstream's cgroup manager reads it (CgroupName(string)): the systemd driver takes the
 * last path element as a slice name ("/system.slice" → ["system"], "/kube-reserved.slice" →
 * ["kube", "reserved"], "_" back to "-"); cgroupfs takes the path's elements ("/system" →
 * ["system"]). The driver then spells it back (systemd: "/system.slice").
 */
export function driverCgroupName(text: string, driver: CgroupDriverName): CgroupName {
  if (driver === 'systemd') {
    const base =
      text
        .split('/')
        .filter((part) => part !== '')
        .at(-1) ?? '';
    const name = base.endsWith('.slice') ? base.slice(0, -'.slice'.length) : base;
    return name.split('-').map((part) => part.replaceAll('_', '-'));
  }
  const trimmed = text.startsWith('/') ? text.slice(1) : text;
  return trimmed === '' ? [] : trimmed.split('/');
}

/** Go's %q of a CgroupName (a []string), as upstream's cgroup errors print it: ["system"]. */
export function quoteCgroupName(name: CgroupName): string {
  return `[${name.map((part) => JSON.stringify(part)).join(' ')}]`;
}
