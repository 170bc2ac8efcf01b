import { parseQuantity } from '@nodeagent/primitives';
import { podResourceLimit } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import type { PodStats } from '../stats/summary-types';
import { formatBinaryQuantity, formatDecimalQuantity } from './quantity-format';

// Upstream's localStorageEviction checks (pkg/kubelet/eviction/eviction_manager.go), run with
// localStorageCapacityIsolation on: a pod over one of its own local storage limits is evicted
// whatever the node's free space, in this order: an emptyDir over its sizeLimit, the pod over
// its containers' ephemeral-storage limits, a container over its own.

/** The kubelet_evictions signal of each limit (upstream signalEmptyDirFsLimit, signalEphemeralPodFsLimit, signalEphemeralContainerFsLimit). */
export type LocalStorageSignal = 'emptydirfs.limit' | 'ephemeralpodfs.limit' | 'ephemeralcontainerfs.limit';

/** The limit a pod is over: the signal it counts under and the eviction message. */
export interface LocalStorageViolation {
  signal: LocalStorageSignal;
  message: string;
}

const ephemeralStorage = 'ephemeral-storage';

/** A quantity's value, or undefined for text that is no quantity (such a limit is not enforced). */
function quantity(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseQuantity(raw);
  } catch {
    return undefined;
  }
}

/**
 * `bytes` as resource.Quantity's String() writes it in the format of the quantity it came from:
 * binary suffixes when that one had one ("1536Mi"), decimal ones otherwise ("2G").
 */
function quantityText(bytes: number, like: string | number): string {
  return /[KMGTPE]i$/.test(String(like)) ? formatBinaryQuantity(bytes) : formatDecimalQuantity(bytes);
}

/** Upstream emptyDirLimitEviction: an emptyDir whose measured use is above a positive sizeLimit. */
function emptyDirOverLimit(pod: Pod, stats: PodStats): LocalStorageViolation | undefined {
  const used = new Map((stats.volume ?? []).map((volume) => [volume.name, volume.usedBytes]));
  for (const volume of pod.spec.volumes ?? []) {
    if (!volume.emptyDir) continue;
    const raw = volume.emptyDir.sizeLimit;
    const size = quantity(raw);
    const usage = used.get(volume.name);
    if (raw === undefined || size === undefined || size <= 0 || usage === undefined || usage <= size)
      continue;
    return {
      signal: 'emptydirfs.limit',
      message: `Usage of EmptyDir volume ${JSON.stringify(volume.name)} exceeds the limit ${JSON.stringify(quantityText(size, raw))}. `,
    };
  }
  return undefined;
}

/**
 * Upstream podEphemeralStorageLimitEviction: the pod's ephemeral-storage use (writable layers,
 * logs and local volumes together) above PodLimits' ephemeral-storage, checked once any of its
 * containers names such a limit.
 */
function podOverLimit(pod: Pod, stats: PodStats): LocalStorageViolation | undefined {
  const declared = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]
    .map((container) => container.resources?.limits?.[ephemeralStorage])
    .find((raw) => raw !== undefined);
  if (declared === undefined) return undefined;
  let limit: number;
  try {
    limit = podResourceLimit(pod, ephemeralStorage).value;
  } catch {
    return undefined;
  }
  const usage = stats[ephemeralStorage]?.usedBytes ?? 0;
  if (usage <= limit) return undefined;
  return {
    signal: 'ephemeralpodfs.limit',
    message: `Pod ephemeral local storage usage exceeds the total limit of containers ${quantityText(limit, declared)}. `,
  };
}

/**
 * Upstream containerEphemeralStorageLimitEviction: an app container whose logs and writable
 * layer use more than its own non-zero ephemeral-storage limit. The writable layer counts as
 * upstream counts it when images share the node's filesystem; this kubelet does not tell a
 * dedicated image filesystem apart (upstream then leaves the layer out).
 */
function containerOverLimit(pod: Pod, stats: PodStats): LocalStorageViolation | undefined {
  const limits = new Map<string, { value: number; raw: string | number }>();
  for (const container of pod.spec.containers) {
    const raw = container.resources?.limits?.[ephemeralStorage];
    const value = quantity(raw);
    if (raw !== undefined && value !== undefined && value !== 0) limits.set(container.name, { value, raw });
  }
  for (const container of stats.containers) {
    const limit = limits.get(container.name);
    if (!limit) continue;
    const used = (container.logs?.usedBytes ?? 0) + (container.rootfs?.usedBytes ?? 0);
    if (used <= limit.value) continue;
    return {
      signal: 'ephemeralcontainerfs.limit',
      message: `Container ${container.name} exceeded its local ephemeral storage limit ${JSON.stringify(quantityText(limit.value, limit.raw))}. `,
    };
  }
  return undefined;
}

/** The first local storage limit the pod is over, in upstream's order; undefined when none. */
export function localStorageViolation(pod: Pod, stats: PodStats): LocalStorageViolation | undefined {
  return emptyDirOverLimit(pod, stats) ?? podOverLimit(pod, stats) ?? containerOverLimit(pod, stats);
}
