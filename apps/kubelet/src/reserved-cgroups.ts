import type { KubeletConfiguration } from '@nodeagent/kubelet';
import {
  type CgroupFilesystem,
  defaultCgroupMountRoot,
  filesystemPath,
  parseRuntimeCgroupName,
} from '@nodeagent/kubelet/cgroups';
import { nodeEventReasons } from '@nodeagent/kubelet/sources';
import { validateExistingCgroup } from './existing-cgroup-validation';
import { quoteCgroupName } from './quote-cgroup-name';
import { reservedCgroupResources } from './reserved-cgroup-limits';
import { StartupRefusedError } from './startup-checks';

type ReservedConfig = Pick<
  KubeletConfiguration,
  | 'enforceNodeAllocatable'
  | 'systemReserved'
  | 'systemReservedCgroup'
  | 'kubeReserved'
  | 'kubeReservedCgroup'
  | 'cgroupDriver'
  | 'featureGates'
>;

/** One reserved level as upstream enforces it. */
interface Level {
  key: string;
  /** How the failure message names it: "System Reserved Compressible"... */
  title: string;
  /** How the success event names the cgroup's owner: "system reserved"... */
  owner: string;
  /** The setting naming the cgroup, for the start-up error. */
  field: string;
  cgroup: (config: ReservedConfig) => string;
  reserved: (config: ReservedConfig) => Readonly<Record<string, string>>;
  compressibleOnly: boolean;
}

const system = {
  owner: 'system reserved',
  field: 'systemReservedCgroup',
  cgroup: (config: ReservedConfig) => config.systemReservedCgroup,
  reserved: (config: ReservedConfig) => config.systemReserved,
};
const kube = {
  owner: 'kube reserved',
  field: 'kubeReservedCgroup',
  cgroup: (config: ReservedConfig) => config.kubeReservedCgroup,
  reserved: (config: ReservedConfig) => config.kubeReserved,
};

/** In upstream's order, whatever the configuration's. */
const levels: Level[] = [
  { ...system, key: 'system-reserved', title: 'System Reserved', compressibleOnly: false },
  { ...kube, key: 'kube-reserved', title: 'Kube Reserved', compressibleOnly: false },
  {
    ...system,
    key: 'system-reserved-compressible',
    title: 'System Reserved Compressible',
    compressibleOnly: true,
  },
  { ...kube, key: 'kube-reserved-compressible', title: 'Kube Reserved Compressible', compressibleOnly: true },
];

/** What enforceReservedCgroups writes with and tells. */
export interface ReservedCgroupsDeps {
  /** The cgroup driver's filesystem (the pod cgroup manager's). */
  fs: CgroupFilesystem;
  /** Where the hierarchy is mounted; default the filesystem's own, else /sys/fs/cgroup. */
  mountRoot?: string;
  /** The Node's events; absent in standalone mode. */
  recordEvent?: ((type: 'Normal' | 'Warning', reason: string, message: string) => void) | undefined;
}

/**
 * upstream enforceExistingCgroup: the limits, then Validate (the cgroup must already be there,
 * with what the kubelet needs) and Update. Returns upstream's error text on failure.
 */
async function enforceExistingCgroup(
  level: Level,
  config: ReservedConfig,
  deps: ReservedCgroupsDeps,
): Promise<string | undefined> {
  const name = parseRuntimeCgroupName(level.cgroup(config), config.cgroupDriver);
  const resources = reservedCgroupResources(level.reserved(config), {
    compressibleOnly: level.compressibleOnly,
    memoryQoS: config.featureGates.MemoryQoS === true,
  });
  if (resources === undefined) return `${quoteCgroupName(name)} cgroup is not configured properly`;
  const path = filesystemPath(name, config.cgroupDriver);
  const mountRoot = deps.mountRoot ?? (deps.fs as { mountRoot?: string }).mountRoot ?? defaultCgroupMountRoot;
  const invalid = await validateExistingCgroup(deps.fs.version, mountRoot, { name, path });
  if (invalid !== undefined) return invalid;
  return deps.fs.ensure(path, resources).then(
    () => undefined,
    (error: Error) => error.message,
  );
}

/**
 * enforceNodeAllocatable's system-reserved and kube-reserved levels (and their -compressible
 * variants), as upstream's container manager applies them at start after the pods level: each
 * listed level's existing cgroup gets the reserved amounts as limits and a NodeAllocatableEnforced
 * event; a cgroup that is missing or cannot be written gets a FailedNodeAllocatableEnforcement
 * warning and stops the kubelet ("Failed to start ContainerManager"), as upstream exits 1.
 */
export async function enforceReservedCgroups(
  config: ReservedConfig,
  deps: ReservedCgroupsDeps,
): Promise<void> {
  for (const level of levels) {
    if (!(config.enforceNodeAllocatable as readonly string[]).includes(level.key)) continue;
    const cgroup = level.cgroup(config);
    const failure = await enforceExistingCgroup(level, config, deps);
    if (failure !== undefined) {
      const message = `Failed to enforce ${level.title} Cgroup Limits on ${JSON.stringify(cgroup)}: ${failure}`;
      deps.recordEvent?.('Warning', nodeEventReasons.failedNodeAllocatableEnforcement, message);
      throw new StartupRefusedError(level.field, cgroup, message, 'Failed to start ContainerManager');
    }
    deps.recordEvent?.(
      'Normal',
      nodeEventReasons.nodeAllocatableEnforced,
      `Updated limits on ${level.owner} cgroup ${cgroup}`,
    );
  }
}
