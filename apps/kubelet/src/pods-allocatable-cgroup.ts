import type { KubeletConfiguration } from '@nodeagent/kubelet';
import {
  type CgroupFilesystem,
  type CgroupResources,
  detectCgroupFilesystem,
  filesystemPath,
  parseCgroupRoot,
  podsCgroupComponent,
} from '@nodeagent/kubelet/cgroups';
import { milliCPUToShares } from '@nodeagent/kubelet/cri';
import { type MachineInfo, readMachineInfo } from '@nodeagent/node-status';
import { milliValue, parseQuantity } from '@nodeagent/primitives';

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
  const reserved = (name: string, parse: (text: string, field: string) => number) =>
    [config.kubeReserved, config.systemReserved].reduce(
      (sum, list) => (list[name] === undefined ? sum : sum + parse(list[name], `reserved.${name}`)),
      0,
    );
  const milliCpu = Math.max(0, machine.numCores * 1000 - reserved('cpu', milliValue));
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
