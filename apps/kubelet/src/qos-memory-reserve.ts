import type { KubeletConfiguration } from '@nodeagent/kubelet';
import type { QOSMemoryReserve } from '@nodeagent/kubelet/cgroups';
import { parseQOSReserved } from '@nodeagent/kubelet/config';
import { type MachineInfo, readMachineInfo } from '@nodeagent/node-status';
import { podsCgroupResources } from './pods-allocatable-cgroup';

/**
 * qosReserved's memory percentage with the alpha QOSReserved gate on (without it upstream only
 * parses the field, which validation has done), over node allocatable as the kubepods cgroup is
 * capped at: capacity − kubeReserved − systemReserved.
 */
export async function qosMemoryReserve(
  config: Pick<KubeletConfiguration, 'qosReserved' | 'featureGates' | 'kubeReserved' | 'systemReserved'>,
  machine: () => Promise<Pick<MachineInfo, 'numCores' | 'memoryCapacityBytes'>> = readMachineInfo,
): Promise<QOSMemoryReserve | undefined> {
  const reserved = parseQOSReserved(config.qosReserved);
  if (!config.featureGates.QOSReserved || 'error' in reserved || reserved.memoryPercent === undefined)
    return undefined;
  const allocatableBytes = podsCgroupResources(await machine(), config).memoryLimitBytes ?? 0;
  return { percent: reserved.memoryPercent, allocatableBytes };
}
