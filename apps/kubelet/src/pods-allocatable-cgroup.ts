import {
  type CgroupFilesystem,
  type CgroupResources,
  detectCgroupFilesystem,
  filesystemPath,
  type KubeletConfiguration,
  milliCPUToShares,
  parseCgroupRoot,
  podsCgroupComponent,
} from '@nodeagent/kubelet';
import { type MachineInfo, parseMilliCpu, parseQuantity, readMachineInfo } from '@nodeagent/node-status';

type AllocatableConfig = Pick<
  KubeletConfiguration,
  | 'kubeReserved'
  | 'systemReserved'
  | 'enforceNodeAllocatable'
  | 'cgroupsPerQOS'
  | 'cgroupRoot'
  | 'cgroupDriver'
>;

/**
 * enforceNodeAllocatable "pods": the kubepods cgroup's limits, upstream's capacity −
 * kubeReserved − systemReserved for CPU (as shares) and memory. Hard eviction thresholds are
 * not subtracted, as upstream: eviction is meant to act before the cgroup limit is reached.
 */
export function podsCgroupResources(
  machine: Pick<MachineInfo, 'numCores' | 'memoryCapacityBytes'>,
  config: Pick<AllocatableConfig, 'kubeReserved' | 'systemReserved'>,
): CgroupResources {
  const reserved = (name: string, parse: (field: string, text: string) => number) =>
    [config.kubeReserved, config.systemReserved].reduce(
      (sum, list) => (list[name] === undefined ? sum : sum + parse(`reserved.${name}`, list[name])),
      0,
    );
  const milliCpu = Math.max(0, machine.numCores * 1000 - reserved('cpu', parseMilliCpu));
  return {
    cpuShares: milliCPUToShares(milliCpu),
    memoryLimitBytes: Math.max(0, machine.memoryCapacityBytes - reserved('memory', parseQuantity)),
  };
}

/** Caps the kubepods cgroup at node allocatable when enforceNodeAllocatable has "pods" and cgroupsPerQOS is on. */
export async function enforcePodsAllocatable(
  config: AllocatableConfig,
  deps: { fs?: CgroupFilesystem; machine?: Pick<MachineInfo, 'numCores' | 'memoryCapacityBytes'> } = {},
): Promise<void> {
  if (!config.cgroupsPerQOS || !config.enforceNodeAllocatable.includes('pods')) return;
  const fs = deps.fs ?? (await detectCgroupFilesystem());
  const machine = deps.machine ?? (await readMachineInfo());
  const pods = filesystemPath(
    [...parseCgroupRoot(config.cgroupRoot, config.cgroupDriver), podsCgroupComponent],
    config.cgroupDriver,
  );
  await fs.ensure(pods, podsCgroupResources(machine, config));
}
