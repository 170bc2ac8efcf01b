import type { LinuxContainerResources, MessageInput } from '@nodeagent/cri-client/types';
import { parseQuantity } from '@nodeagent/primitives';
import type { Container, Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import { isCriticalPod } from './critical-pod';

/** KubeletConfiguration.memorySwap.swapBehavior: "" and NoSwap both mean no swap for containers. */
export type SwapBehavior = '' | 'NoSwap' | 'LimitedSwap';

/** The cgroup v2 file limiting a cgroup's swap (upstream cm.Cgroup2MaxSwapFilename). */
export const cgroup2MaxSwapFile = 'memory.swap.max';

/** What the node offers for swap, read once at start (upstream reads cgroup mode and machine info). */
export interface NodeSwapFacts {
  /** KubeletConfiguration.memorySwap.swapBehavior. */
  behavior: SwapBehavior;
  /** The host's cgroup version. */
  cgroupVersion: 1 | 2;
  /**
   * Whether the kernel has a swap controller: `memory.memsw.limit_in_bytes` in the v1 memory
   * hierarchy, `memory.swap.max` in the kubelet's own v2 cgroup. Without one nothing is set.
   */
  swapControllerAvailable: boolean;
  /** Node memory capacity in bytes. */
  memoryCapacity: number;
  /** Node swap capacity in bytes (/proc/meminfo SwapTotal). */
  swapCapacity: number;
}

/**
 * The swap a container gets (upstream GetContainerSwapBehavior): LimitedSwap only on cgroup v2
 * with a swap controller, for a non-critical Burstable pod's container whose memory request is
 * set and differs from its limit; NoSwap for everything else.
 */
export function containerSwapBehavior(
  pod: Pod,
  container: Container,
  facts: NodeSwapFacts,
): 'NoSwap' | 'LimitedSwap' {
  if (facts.behavior !== 'LimitedSwap') return 'NoSwap';
  if (!facts.swapControllerAvailable || facts.cgroupVersion !== 2) return 'NoSwap';
  if (isCriticalPod(pod)) return 'NoSwap';
  const request = parseQuantity(container.resources?.requests?.memory ?? 0);
  const limit = parseQuantity(container.resources?.limits?.memory ?? 0);
  if (podQOSClass(pod) !== 'Burstable' || (request === 0 && limit === 0) || request === limit)
    return 'NoSwap';
  return 'LimitedSwap';
}

/** Why a LimitedSwap share cannot be computed (the container then gets no swap, as upstream). */
export class SwapShareError extends Error {}

/**
 * A Burstable container's swap share (KEP-2400): its memory request's fraction of node memory,
 * times the node's swap, truncated to whole bytes (upstream calcSwapForBurstablePods).
 */
export function limitedSwapBytes(
  memoryRequest: number,
  memoryCapacity: number,
  swapCapacity: number,
): number {
  if (memoryCapacity <= 0) throw new SwapShareError('total node memory is 0');
  if (memoryRequest > memoryCapacity)
    throw new SwapShareError(
      `container request ${memoryRequest} is larger than total node memory ${memoryCapacity}`,
    );
  return Math.trunc((memoryRequest / memoryCapacity) * swapCapacity);
}

/**
 * The container's CRI resources with its swap setting added (upstream
 * configureContainerSwapResources). No swap controller: unchanged. cgroup v1 has no swap-only
 * limit, so NoSwap sets memory+swap equal to the memory limit (the kernel may still swap within
 * it; 0 leaves both unlimited); cgroup v2 sets `memory.swap.max` to 0 or to the LimitedSwap share.
 * `onShareError` hears why a share could not be computed (the container then gets NoSwap).
 */
export function withContainerSwap(
  resources: MessageInput<LinuxContainerResources>,
  pod: Pod,
  container: Container,
  facts: NodeSwapFacts,
  onShareError: (error: SwapShareError) => void = () => {},
): MessageInput<LinuxContainerResources> {
  if (!facts.swapControllerAvailable) return resources;
  const noSwap = () =>
    facts.cgroupVersion === 1
      ? { ...resources, memorySwapLimitInBytes: resources.memoryLimitInBytes ?? 0 }
      : { ...resources, unified: { ...resources.unified, [cgroup2MaxSwapFile]: '0' } };
  if (containerSwapBehavior(pod, container, facts) === 'NoSwap') return noSwap();
  let share: number;
  try {
    share = limitedSwapBytes(
      parseQuantity(container.resources?.requests?.memory ?? 0),
      facts.memoryCapacity,
      facts.swapCapacity,
    );
  } catch (error) {
    if (!(error instanceof SwapShareError)) throw error;
    onShareError(error);
    return noSwap();
  }
  return { ...resources, unified: { ...resources.unified, [cgroup2MaxSwapFile]: String(share) } };
}
