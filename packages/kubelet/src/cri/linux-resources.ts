import type { LinuxContainerResources, MessageInput } from '@nodeagent/cri-client/types';
import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { hasPodLevelRequests, podLevelLimit } from '../api/pod-level-resources';
import type { Container, Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import { type ContainerMemoryQoS, withContainerMemoryQoS } from './container-memory-qos';
import { type NodeSwapFacts, type SwapShareError, withContainerSwap } from './container-swap';

// Upstream pkg/kubelet/cm constants for the CFS shares and quota arithmetic.
/** The smallest cpu.shares value the kernel accepts; a container with no CPU request gets it. */
export const minShares = 2;
/** cpu.shares for one whole CPU. */
export const sharesPerCPU = 1024;
/** The largest cpu.shares value the kernel accepts (upstream MaxShares). */
export const maxShares = 262144;
/** Millicores per CPU. */
export const milliCPUToCPU = 1000;
/** The default CFS quota period, in microseconds (100 ms). */
export const quotaPeriodUs = 100_000;
/** The smallest CFS quota the kernel accepts, in microseconds (1 ms). */
export const minQuotaPeriodUs = 1000;

// OOM score adjustments (upstream pkg/kubelet/qos/policy.go).
/** oom_score_adj of a Guaranteed pod's containers: killed only after everything else. */
export const guaranteedOOMScoreAdj = -997;
/** oom_score_adj of a BestEffort pod's containers: the first the kernel kills. */
export const besteffortOOMScoreAdj = 1000;
/** oom_score_adj upstream gives the kubelet process itself. */
export const kubeletOOMScoreAdj = -999;

/** cpu.shares for a CPU request in millicores: 1024 per CPU, within 2..262144 (upstream MilliCPUToShares). */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return minShares;
  return Math.min(maxShares, Math.max(minShares, Math.floor((milliCPU * sharesPerCPU) / milliCPUToCPU)));
}

/**
 * CFS quota in microseconds per `periodUs` for a CPU limit in millicores, never below 1000; 0 for no limit, which
 * leaves the quota unset (upstream MilliCPUToQuota).
 */
export function milliCPUToQuota(milliCPU: number, periodUs: number): number {
  if (milliCPU === 0) return 0;
  return Math.max(minQuotaPeriodUs, Math.floor((milliCPU * periodUs) / milliCPUToCPU));
}

/**
 * Upstream GetContainerOOMScoreAdjust: guaranteed pods are almost never killed, best-effort first,
 * burstable in between by the share of node memory they requested.
 */
export function containerOOMScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  const qos = podQOSClass(pod);
  if (qos === 'Guaranteed') return guaranteedOOMScoreAdj;
  if (qos === 'BestEffort') return besteffortOOMScoreAdj;
  const request =
    parseQuantity(container.resources?.requests?.memory ?? 0) + podMemoryRequestSharePerContainer(pod);
  if (memoryCapacity <= 0) return besteffortOOMScoreAdj - 1;
  // Go's int64 arithmetic: the share of capacity is truncated before it is taken from 1000.
  const adj = 1000 - Math.trunc((1000 * request) / memoryCapacity);
  if (adj < 1000 + guaranteedOOMScoreAdj) return 1000 + guaranteedOOMScoreAdj;
  if (adj === besteffortOOMScoreAdj) return adj - 1;
  return adj;
}

/**
 * Upstream remainingPodMemReqPerContainer: with a pod-level memory request, what it holds beyond the containers' own
 * requests counts evenly for every (init and app) container's OOM score; 0 without one.
 */
function podMemoryRequestSharePerContainer(pod: Pod): number {
  const podRequest = pod.spec.resources?.requests?.memory;
  if (!hasPodLevelRequests(pod) || podRequest === undefined) return 0;
  const init = pod.spec.initContainers ?? [];
  const memory = (c: Container) => parseQuantity(c.resources?.requests?.memory ?? 0);
  // The containers' aggregate (upstream AggregateContainerRequests): app containers and sidecars add up, a regular
  // init container runs beside the sidecars started before it.
  let sum = 0;
  let sidecars = 0;
  let initPeak = 0;
  for (const c of init) {
    if (c.restartPolicy === 'Always') {
      sum += memory(c);
      sidecars += memory(c);
    } else initPeak = Math.max(initPeak, sidecars + memory(c));
  }
  for (const c of pod.spec.containers) sum += memory(c);
  const remaining = parseQuantity(podRequest, 'spec.resources.requests.memory') - Math.max(sum, initPeak);
  return Math.trunc(remaining / (pod.spec.containers.length + init.length));
}

/** The node facts and KubeletConfiguration fields that turn a container's resources into CRI Linux resources. */
export interface LinuxResourceOptions {
  /** Node memory capacity in bytes, for the burstable OOM score. */
  memoryCapacity: number;
  /** KubeletConfiguration.cpuCFSQuota. */
  cpuCFSQuota?: boolean;
  /** KubeletConfiguration.cpuCFSQuotaPeriod in microseconds. */
  cpuCFSQuotaPeriodUs?: number;
  /** memorySwap and the node's swap facts; absent: no swap setting at all (see withContainerSwap). */
  swap?: NodeSwapFacts;
  /** Hears why a LimitedSwap share could not be computed. */
  onSwapShareError?: (error: SwapShareError) => void;
  /** MemoryQoS's settings when it is enforced (gate on, cgroup v2); absent: no memory.min/low/high. */
  memoryQoS?: ContainerMemoryQoS;
  /**
   * Whether an OOM kills the whole container (memory.oom.group=1): on cgroup v2 unless
   * singleProcessOOMKill is true, as upstream (see oomGroupKill).
   */
  oomGroupKill?: boolean;
}

/** The cgroup v2 file that makes the kernel's OOM killer take every process of the cgroup at once. */
export const cgroup2OOMGroup = 'memory.oom.group';

/**
 * Upstream's calculateLinuxResources: on cgroup v2, unless singleProcessOOMKill is true (unset
 * means false there), each container's cgroup gets memory.oom.group=1, so an OOM kill ends the
 * container rather than one of its processes. cgroup v1 has no such file.
 */
export function oomGroupKill(
  cgroupVersion: 1 | 2 | undefined,
  singleProcessOOMKill: boolean | undefined,
): boolean {
  return cgroupVersion === 2 && singleProcessOOMKill !== true;
}

/** The host facts calculateLinuxResources reads, for containers and the sandbox alike. */
export type CalculateLinuxResourceOptions = Pick<
  LinuxResourceOptions,
  'cpuCFSQuota' | 'cpuCFSQuotaPeriodUs' | 'oomGroupKill'
>;

/**
 * Upstream calculateLinuxResources, for a container and for the sandbox's two entries. A missing
 * CPU request (undefined, as Go's nil) takes its shares from the limit; a request present but
 * zero gets the minimum shares. With cpuCFSQuota the period is always sent, the quota for a limit
 * (0: none); without it neither is. The quota is never -1 here: that needs exclusive CPUs, and
 * this kubelet has no CPU manager. On cgroup v2 without singleProcessOOMKill, memory.oom.group=1.
 */
export function calculateLinuxResources(
  cpuRequestMilli: number | undefined,
  cpuLimitMilli: number,
  memoryLimitBytes: number,
  options: CalculateLinuxResourceOptions,
): MessageInput<LinuxContainerResources> {
  const period = options.cpuCFSQuotaPeriodUs ?? quotaPeriodUs;
  return {
    cpuShares: milliCPUToShares(cpuRequestMilli ?? cpuLimitMilli),
    memoryLimitInBytes: memoryLimitBytes,
    ...((options.cpuCFSQuota ?? true)
      ? { cpuPeriod: period, cpuQuota: milliCPUToQuota(cpuLimitMilli, period) }
      : {}),
    ...(options.oomGroupKill ? { unified: { [cgroup2OOMGroup]: '1' } } : {}),
  };
}

/** resources → CRI LinuxContainerResources (upstream generateLinuxContainerResources). */
export function linuxContainerResources(
  pod: Pod,
  container: Container,
  options: LinuxResourceOptions,
): MessageInput<LinuxContainerResources> {
  const limits = containerLimits(pod, container);
  const requests = container.resources?.requests ?? {};
  const cpuLimit = limits.cpu !== undefined ? milliValue(limits.cpu, 'resources.limits.cpu') : 0;
  const cpuRequest =
    requests.cpu !== undefined ? milliValue(requests.cpu, 'resources.requests.cpu') : undefined;
  const memoryLimit =
    limits.memory !== undefined ? Math.ceil(parseQuantity(limits.memory, 'resources.limits.memory')) : 0;
  // Swap's and MemoryQoS's entries are merged over its unified map, as upstream's are.
  const resources = {
    ...calculateLinuxResources(cpuRequest, cpuLimit, memoryLimit, options),
    oomScoreAdj: containerOOMScoreAdj(pod, container, options.memoryCapacity),
  };
  const withSwap = options.swap
    ? withContainerSwap(resources, pod, container, options.swap, options.onSwapShareError)
    : resources;
  return options.memoryQoS ? withContainerMemoryQoS(withSwap, pod, container, options.memoryQoS) : withSwap;
}

/**
 * A container's limits as its cgroup gets them: with pod-level resources (upstream getCPULimit/getMemoryLimit), a
 * container without its own cpu or memory limit is bounded by the pod's, so no container may use more than the pod.
 */
function containerLimits(
  pod: Pod,
  container: Container,
): { cpu?: string | number; memory?: string | number } {
  const own = container.resources?.limits ?? {};
  return {
    cpu: own.cpu ?? podLevelLimit(pod, 'cpu'),
    memory: own.memory ?? podLevelLimit(pod, 'memory'),
  };
}
