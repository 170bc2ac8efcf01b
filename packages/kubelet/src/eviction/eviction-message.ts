import { parseQuantity } from '@nodeagent/primitives';
import type { Pod } from '../api/pod-types';
import { thresholdQuantity } from '../config/eviction-thresholds';
import type { ConfiguredThreshold } from './eviction-config';
import { type PodStatsLookup, podUsage } from './pod-usage';
import { formatBinaryQuantity, formatDecimalQuantity } from './quantity-format';
import type { SignalObservations } from './signal-observations';
import { type StarvedResource, signalToResource } from './signal-resources';

/** Upstream eviction reason and message formats (pkg/kubelet/eviction/helpers.go). */
export const evictedReason = 'Evicted';
export const offendingContainersKey = 'offending_containers';
export const offendingContainersUsageKey = 'offending_containers_usage';
export const starvedResourceKey = 'starved_resource';

function format(resource: StarvedResource, value: number): string {
  return resource === 'memory' || resource === 'ephemeral-storage'
    ? formatBinaryQuantity(value)
    : formatDecimalQuantity(value);
}

/** "The node was low on resource: memory. " */
export function nodeLowMessage(resource: StarvedResource): string {
  return `The node was low on resource: ${resource}. `;
}

/** "The node had condition: [MemoryPressure]. " (admission rejections). */
export function nodeConditionMessage(conditions: readonly string[]): string {
  return `The node had condition: [${conditions.join(' ')}]. `;
}

/**
 * Upstream evictionMessage: names the starved resource, the threshold and what was available,
 * then every container using more of it than it requested (memory and ephemeral storage).
 */
export function evictionMessage(
  resource: StarvedResource,
  pod: Pod,
  stats: PodStatsLookup,
  thresholds: readonly ConfiguredThreshold[],
  observations: SignalObservations,
): { message: string; annotations: Record<string, string> } {
  let message = nodeLowMessage(resource);
  for (const threshold of thresholds) {
    if (signalToResource[threshold.signal] !== resource) continue;
    const observed = observations.get(threshold.signal);
    if (!observed) continue;
    message += `Threshold quantity: ${format(resource, thresholdQuantity(threshold.value, observed.capacity))}, available: ${format(resource, observed.available)}. `;
    break;
  }
  const annotations: Record<string, string> = { [starvedResourceKey]: resource };
  const podStats = stats(pod);
  if (!podStats) return { message, annotations };
  const names: string[] = [];
  const usages: string[] = [];
  for (const containerStats of podStats.containers) {
    const container = pod.spec.containers.find((c) => c.name === containerStats.name);
    if (!container || (resource !== 'memory' && resource !== 'ephemeral-storage')) continue;
    const usage = podUsage(
      { ...podStats, containers: [containerStats], 'ephemeral-storage': undefined },
      resource,
    );
    const rawRequest = container.resources?.requests?.[resource];
    const request = rawRequest === undefined ? 0 : parseQuantity(rawRequest);
    if (usage > request) {
      const usageText = formatBinaryQuantity(usage);
      message += `Container ${container.name} was using ${usageText}, request is ${rawRequest ?? '0'}, has larger consumption of ${resource}. `;
      names.push(container.name);
      usages.push(usageText);
    }
  }
  annotations[offendingContainersKey] = names.join(',');
  annotations[offendingContainersUsageKey] = usages.join(',');
  return { message, annotations };
}
