import type {
  LinuxContainerResources,
  MessageInput,
  UpdatePodSandboxResourcesRequest,
} from '@nodeagent/cri-client/types';
import { milliValue, parseQuantity } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import { milliCPUToCPU, milliCPUToQuota, milliCPUToShares, minShares, sharesPerCPU } from './linux-resources';
import { type SandboxResourceOptions, sandboxOverhead } from './sandbox-resources';

/**
 * The pod cgroup's CPU and memory settings as the kubelet holds them during a resize (upstream's
 * ResourceConfig fields the request reads); absent ones are left out of the request. The memory
 * limit is a bigint: cgroup v1's "no limit" (9223372036854771712) is sent as the file holds it.
 */
export interface PodCgroupValues {
  cpuShares?: number;
  /** -1: unlimited. */
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  /** -1: unlimited (cgroup v2's "max"). */
  memoryLimitBytes?: bigint;
}

/** Upstream SharesToMilliCPU: the millicores cpu.shares stands for, rounded up; 0 below the minimum shares. */
function sharesToMilliCPU(shares: number): number {
  return shares >= minShares ? Math.ceil((shares * milliCPUToCPU) / sharesPerCPU) : 0;
}

/**
 * Upstream subtractOverheadFromResourceConfig: the pod cgroup holds spec.overhead on top of the
 * containers' resources; the request reports it apart, so it is taken out of the quota, the
 * shares (through millicores, as upstream rounds) and the memory limit. An unlimited quota (-1)
 * is not special-cased there either.
 */
function withoutOverhead(values: PodCgroupValues, pod: Pod): PodCgroupValues {
  const overhead = pod.spec.overhead;
  const out = { ...values };
  if (overhead?.cpu !== undefined) {
    const cpu = milliValue(overhead.cpu, 'spec.overhead.cpu');
    if (out.cpuPeriodUs !== undefined)
      out.cpuQuotaUs = (out.cpuQuotaUs ?? 0) - milliCPUToQuota(cpu, out.cpuPeriodUs);
    if (out.cpuShares !== undefined) out.cpuShares = milliCPUToShares(sharesToMilliCPU(out.cpuShares) - cpu);
  }
  if (overhead?.memory !== undefined && out.memoryLimitBytes !== undefined)
    out.memoryLimitBytes -= BigInt(Math.ceil(parseQuantity(overhead.memory, 'spec.overhead.memory')));
  return out;
}

/** Upstream convertResourceConfigToLinuxContainerResources for the fields a pod cgroup resize sets. */
function linuxResources(values: PodCgroupValues): MessageInput<LinuxContainerResources> {
  return {
    ...(values.cpuPeriodUs !== undefined ? { cpuPeriod: values.cpuPeriodUs } : {}),
    ...(values.cpuQuotaUs !== undefined ? { cpuQuota: values.cpuQuotaUs } : {}),
    ...(values.cpuShares !== undefined ? { cpuShares: values.cpuShares } : {}),
    ...(values.memoryLimitBytes !== undefined ? { memoryLimitInBytes: values.memoryLimitBytes } : {}),
  };
}

/**
 * Upstream generateUpdatePodSandboxResourcesRequest (Linux): the pod's spec.overhead as the
 * sandbox's overhead (as RunPodSandbox sends it) and the pod cgroup's values without it as its
 * resources.
 */
export function updatePodSandboxResourcesRequest(
  sandboxId: string,
  pod: Pod,
  podCgroup: PodCgroupValues,
  options: SandboxResourceOptions,
): MessageInput<UpdatePodSandboxResourcesRequest> {
  return {
    podSandboxId: sandboxId,
    overhead: sandboxOverhead(pod, options),
    resources: linuxResources(withoutOverhead(podCgroup, pod)),
  };
}
