import type { KubeletConfiguration } from '../config/kubelet-configuration';
import { ResourceManagerError } from '../cpumanager/resource-manager-error';
import { MemoryManager } from './memory-manager';
import type { MemoryManagerMetrics } from './memory-manager-metrics';
import { type NumaMemory, readMachineMemoryBytes, readNumaMemory } from './numa-memory';
import { memoryAllocatableReservation, systemReservedMemory } from './reserved-memory';
import { StaticMemoryPolicy } from './static-memory-policy';

/** Where the Static policy reads the machine's memory (tests give a fake sysfs). */
export interface MachineMemory {
  /** Each NUMA node's memory and huge pages (default: /sys/devices/system/node). */
  numaMemory?: () => readonly NumaMemory[];
  /** The machine's memory capacity, for a percentage memory.available threshold (default /proc/meminfo). */
  memoryCapacityBytes?: () => number;
}

/**
 * Upstream memorymanager.NewManager from the KubeletConfiguration: `None`, or `Static` with
 * reservedMemory checked against Node allocatable's memory reservation (kubeReserved +
 * systemReserved + the hard memory.available threshold) on the machine's NUMA nodes; the Static
 * policy counts its pinning on `metrics`. Throws ResourceManagerError with upstream's text, which
 * stops the start.
 */
export function memoryManagerFromConfig(
  config: Pick<
    KubeletConfiguration,
    'memoryManagerPolicy' | 'reservedMemory' | 'kubeReserved' | 'systemReserved' | 'evictionHard'
  >,
  rootDir: string,
  machine: MachineMemory = {},
  metrics?: MemoryManagerMetrics,
): MemoryManager {
  const policyName = config.memoryManagerPolicy;
  const refuse = (message: string) => new ResourceManagerError('memoryManagerPolicy', policyName, message);
  switch (policyName) {
    case 'None':
      return new MemoryManager({ name: 'None' }, rootDir);
    case 'Static': {
      const nodes = (machine.numaMemory ?? (() => readNumaMemory()))();
      const capacity = (machine.memoryCapacityBytes ?? (() => readMachineMemoryBytes()))();
      try {
        const reserved = systemReservedMemory(
          nodes,
          config.reservedMemory,
          memoryAllocatableReservation(config, capacity),
        );
        return new MemoryManager(new StaticMemoryPolicy(nodes, reserved, metrics), rootDir);
      } catch (error) {
        throw refuse((error as Error).message);
      }
    }
    case 'BestEffort':
      throw refuse('policy "BestEffort" is not available for platform "linux"');
    default:
      throw refuse(`unknown policy: ${JSON.stringify(policyName)}`);
  }
}
