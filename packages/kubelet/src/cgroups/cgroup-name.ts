import { InvalidConfigError } from '../errors';

/**
 * A cgroup named driver-neutrally, as its path components from the hierarchy root
 * (upstream CgroupName): ['kubepods', 'burstable', 'pod<uid>']. The cgroup driver decides how
 * the name is spelled for the runtime and where it lives on the cgroup filesystem.
 */
export type CgroupName = readonly string[];

/**
 * How cgroups are named and created (KubeletConfiguration.cgroupDriver): plain cgroupfs directories, or systemd
 * slices. It must match the runtime's setting.
 */
export type CgroupDriverName = 'cgroupfs' | 'systemd';

/** The cgroup every pod lives under (upstream defaultNodeAllocatableCgroupName), below cgroupRoot. */
export const podsCgroupComponent = 'kubepods';
/** The cgroup under `kubepods` that holds the Burstable pods. */
export const burstableCgroupComponent = 'burstable';
/** The cgroup under `kubepods` that holds the BestEffort pods. */
export const besteffortCgroupComponent = 'besteffort';
/** A pod's own cgroup is this prefix followed by the pod's UID: `pod<uid>`. */
export const podCgroupPrefix = 'pod';

const systemdSuffix = '.slice';

/**
 * KubeletConfiguration.cgroupRoot → a CgroupName. cgroupfs roots are paths ("/", "/custom");
 * systemd roots are slice names ("custom.slice", "a-b.slice") or "/".
 */
export function parseCgroupRoot(cgroupRoot: string, driver: CgroupDriverName): CgroupName {
  const text = cgroupRoot.trim();
  if (text === '' || text === '/') return [];
  if (driver === 'systemd' && text.endsWith(systemdSuffix) && !text.includes('/')) {
    if (text === `-${systemdSuffix}`) return [];
    return text.slice(0, -systemdSuffix.length).split('-').map(unescapeSystemd);
  }
  if (!text.startsWith('/'))
    throw new InvalidConfigError(
      'cgroupRoot',
      cgroupRoot,
      'must be an absolute path or a systemd slice name',
    );
  const parts = text.split('/').filter((part) => part !== '');
  if (parts.some((part) => part === '.' || part === '..'))
    throw new InvalidConfigError('cgroupRoot', cgroupRoot, 'must not contain . or .. components');
  return parts;
}

/** cgroupfs spelling: "/kubepods/burstable/pod<uid>" ("/" for the root). */
export function cgroupfsName(name: CgroupName): string {
  return `/${name.join('/')}`;
}

// systemd uses '-' as its hierarchy separator, so a '-' inside a component becomes '_'
// (upstream escapeSystemdCgroupName), which is why pod uids appear with underscores.
function escapeSystemd(part: string): string {
  return part.replaceAll('-', '_');
}
function unescapeSystemd(part: string): string {
  return part.replaceAll('_', '-');
}

/** systemd spelling: the leaf slice, "kubepods-burstable-pod<uid_with_underscores>.slice" ("-.slice" for the root). */
export function systemdSliceName(name: CgroupName): string {
  if (name.length === 0) return `-${systemdSuffix}`;
  return `${name.map(escapeSystemd).join('-')}${systemdSuffix}`;
}

/**
 * Where a systemd-named cgroup lives on the cgroup filesystem: every ancestor slice is a
 * directory, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice".
 */
export function systemdFilesystemPath(name: CgroupName): string {
  const dirs: string[] = [];
  for (let i = 1; i <= name.length; i++) dirs.push(systemdSliceName(name.slice(0, i)));
  return `/${dirs.join('/')}`;
}

/** What the runtime is told (CRI LinuxPodSandboxConfig.cgroup_parent) for this cgroup. */
export function runtimeCgroupName(name: CgroupName, driver: CgroupDriverName): string {
  return driver === 'systemd' ? systemdSliceName(name) : cgroupfsName(name);
}

/** The cgroup's directory relative to a hierarchy's mount point. */
export function filesystemPath(name: CgroupName, driver: CgroupDriverName): string {
  return driver === 'systemd' ? systemdFilesystemPath(name) : cgroupfsName(name);
}

/** Go's path.Base: the last element after trailing slashes are dropped; "/" for only slashes, "." for "". */
function goPathBase(text: string): string {
  if (text === '') return '.';
  const trimmed = text.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * A cgroup as the runtime or the configuration spells it, back to a CgroupName (upstream's
 * cgroup manager CgroupName(string)): the systemd driver reads the last path element as a slice
 * name ("/kube-reserved.slice" → ["kube", "reserved"], "_" back to "-"); cgroupfs takes the
 * path's elements ("/a/b" → ["a", "b"], "/" → []).
 */
export function parseRuntimeCgroupName(text: string, driver: CgroupDriverName): CgroupName {
  if (driver === 'systemd') {
    const base = goPathBase(text);
    const slice = base.endsWith(systemdSuffix) ? base.slice(0, -systemdSuffix.length) : base;
    return slice.split('-').map(unescapeSystemd);
  }
  const components = (text.startsWith('/') ? text.slice(1) : text).split('/');
  return components.length === 1 && components[0] === '' ? [] : components;
}
