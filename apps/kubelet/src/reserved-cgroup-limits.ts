import type { CgroupResources } from '@nodeagent/kubelet/cgroups';
import { milliCPUToShares } from '@nodeagent/kubelet/cri';
import { milliValue, parseQuantity } from '@nodeagent/primitives';

/**
 * The limits a reserved cgroup gets from systemReserved or kubeReserved (upstream
 * getCgroupConfigInternal): cpu as shares (cpu.weight on v2), memory as the limit, pid as
 * pids.max; with compressibleOnly (the "-compressible" levels) cpu alone. With MemoryQoS the
 * memory is also protected (memory.min, cgroup v2 only). undefined when nothing is reserved:
 * upstream's nil resource list, which it refuses as "not configured properly".
 */
export function reservedCgroupResources(
  reserved: Readonly<Record<string, string>>,
  options: { compressibleOnly: boolean; memoryQoS: boolean },
): CgroupResources | undefined {
  if (Object.keys(reserved).length === 0) return undefined;
  const out: CgroupResources = {};
  if (reserved.cpu !== undefined) out.cpuShares = milliCPUToShares(milliValue(reserved.cpu, 'reserved.cpu'));
  if (options.compressibleOnly) return out;
  if (reserved.memory !== undefined) {
    // Quantity.Value(): whole bytes, rounded up.
    out.memoryLimitBytes = Math.ceil(parseQuantity(reserved.memory, 'reserved.memory'));
    if (options.memoryQoS) out.unified = { 'memory.min': String(out.memoryLimitBytes) };
  }
  if (reserved.pid !== undefined) out.pidsLimit = Math.ceil(parseQuantity(reserved.pid, 'reserved.pid'));
  return out;
}
