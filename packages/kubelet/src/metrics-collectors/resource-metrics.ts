import type { CPUStats, MemoryStats, Summary, SwapStats } from '../stats/summary-types';
import type { MetricDesc, MetricFamily, Sample } from './exposition-text';

/**
 * /metrics/resource as upstream's resource metrics collector (pkg/kubelet/metrics/collectors/
 * resource_metrics.go) builds it from the CPU and memory stats: what metrics-server scrapes for
 * `kubectl top` and the HPA. CPU and memory samples carry the stats' own timestamps.
 * scrape_error (deprecated in 1.29, hidden since) is left out as v1.34 does; resource_scrape_error
 * replaces it.
 */
const desc = (name: string, help: string, type: MetricDesc['type'], stability: MetricDesc['stability']) => ({
  name,
  help,
  type,
  stability,
});

export const resourceMetricDescs = {
  nodeCpu: desc(
    'node_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the node in core-seconds',
    'counter',
    'STABLE',
  ),
  nodeMemory: desc(
    'node_memory_working_set_bytes',
    'Current working set of the node in bytes',
    'gauge',
    'STABLE',
  ),
  nodeSwap: desc(
    'node_swap_usage_bytes',
    'Current swap usage of the node in bytes. Reported only on non-windows systems',
    'gauge',
    'ALPHA',
  ),
  containerStart: desc(
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds',
    'gauge',
    'STABLE',
  ),
  containerCpu: desc(
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the container in core-seconds',
    'counter',
    'STABLE',
  ),
  containerMemory: desc(
    'container_memory_working_set_bytes',
    'Current working set of the container in bytes',
    'gauge',
    'STABLE',
  ),
  containerSwap: desc(
    'container_swap_usage_bytes',
    'Current amount of the container swap usage in bytes. Reported only on non-windows systems',
    'gauge',
    'ALPHA',
  ),
  podCpu: desc(
    'pod_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the pod in core-seconds',
    'counter',
    'STABLE',
  ),
  podMemory: desc(
    'pod_memory_working_set_bytes',
    'Current working set of the pod in bytes',
    'gauge',
    'STABLE',
  ),
  podSwap: desc(
    'pod_swap_usage_bytes',
    'Current amount of the pod swap usage in bytes. Reported only on non-windows systems',
    'gauge',
    'ALPHA',
  ),
  scrapeError: desc(
    'resource_scrape_error',
    '1 if there was an error while getting container metrics, 0 otherwise',
    'gauge',
    'STABLE',
  ),
} satisfies Record<string, MetricDesc>;

function cpuSample(cpu: CPUStats | undefined, labels?: Record<string, string>): Sample[] {
  if (cpu?.usageCoreNanoSeconds === undefined) return [];
  return [{ labels, value: cpu.usageCoreNanoSeconds / 1e9, timestampMs: Date.parse(cpu.time) }];
}

function memorySample(memory: MemoryStats | undefined, labels?: Record<string, string>): Sample[] {
  if (memory?.workingSetBytes === undefined) return [];
  return [{ labels, value: memory.workingSetBytes, timestampMs: Date.parse(memory.time) }];
}

/** Swap usage at `time` (node: the memory stats' time, as upstream stamps it). */
function swapSample(
  swap: SwapStats | undefined,
  time: string | undefined,
  labels?: Record<string, string>,
): Sample[] {
  if (swap?.swapUsageBytes === undefined || time === undefined) return [];
  return [{ labels, value: swap.swapUsageBytes, timestampMs: Date.parse(time) }];
}

/** The families for one scrape; `summary` undefined means getting the stats failed. */
export function resourceMetricFamilies(summary: Summary | undefined): MetricFamily[] {
  const d = resourceMetricDescs;
  const families = Object.fromEntries(
    Object.entries(d).map(([key, value]) => [key, { desc: value, samples: [] as Sample[] }]),
  ) as Record<keyof typeof d, MetricFamily>;
  families.scrapeError.samples.push({ value: summary ? 0 : 1 });
  if (summary) {
    families.nodeCpu.samples.push(...cpuSample(summary.node.cpu));
    families.nodeMemory.samples.push(...memorySample(summary.node.memory));
    families.nodeSwap.samples.push(...swapSample(summary.node.swap, summary.node.memory?.time));
    for (const pod of summary.pods) {
      const podLabels = { pod: pod.podRef.name, namespace: pod.podRef.namespace };
      for (const container of pod.containers) {
        const labels = { container: container.name, ...podLabels };
        const started = Date.parse(container.startTime);
        if (started > 0) families.containerStart.samples.push({ labels, value: started / 1000 });
        families.containerCpu.samples.push(...cpuSample(container.cpu, labels));
        families.containerMemory.samples.push(...memorySample(container.memory, labels));
        families.containerSwap.samples.push(...swapSample(container.swap, container.swap?.time, labels));
      }
      families.podCpu.samples.push(...cpuSample(pod.cpu, podLabels));
      families.podMemory.samples.push(...memorySample(pod.memory, podLabels));
      families.podSwap.samples.push(...swapSample(pod.swap, pod.swap?.time, podLabels));
    }
  }
  return Object.values(families);
}
