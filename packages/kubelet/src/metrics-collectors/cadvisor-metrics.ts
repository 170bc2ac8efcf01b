import type { CPUStats, FsStats, MemoryStats, PodReference, Summary } from '../stats/summary-types';
import { type PressureRow, pressureFamilies } from './cadvisor-pressure';
import type { MetricDesc, MetricFamily, Sample } from './exposition-text';
import { hostKernelPsiEnabled } from './kernel-psi';

/**
 * /metrics/cadvisor built from the summary stats, with the series, HELP text and labels of
 * cAdvisor's Prometheus collector as the v1.36 kubelet registers it (pkg/kubelet/server/server.go,
 * google/cadvisor metrics/prometheus.go). The collector is registered raw, so HELP lines carry
 * no stability level. Every series has cAdvisor's base labels `container`, `id`, `image`, `name`,
 * `namespace`, `pod`; a label the kubelet cannot fill is the empty string, as upstream's labels
 * function supplies blanks for missing labels. `name` (the runtime's container ID) and `image`
 * come from `identify` (the kubelet's runtime cache) and are blank when it does not know the
 * container; `id` (the cgroup path) is `/` on the root cgroup's row (the node's stats, as
 * upstream's summary takes the node from cAdvisor's `/`) and blank elsewhere: neither source
 * carries a pod's or container's cgroup name. Pod-level rows (upstream: the pod cgroup,
 * associated with its pod) have `container=""`, `name=""`, `image=""`. Stats samples carry the
 * stats' own timestamps; container_start_time_seconds (a spec metric) and container_scrape_error
 * carry none; container_last_seen is the scrape time. The container_pressure_* counters
 * (cadvisor-pressure.ts) are the ones cAdvisor adds under PressureMetrics.
 */
export const cadvisorMetricDescs = {
  cpuUsage: desc('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.', 'counter'),
  memoryUsage: desc(
    'container_memory_usage_bytes',
    'Current memory usage in bytes, including all memory regardless of when it was accessed',
    'gauge',
  ),
  memoryWorkingSet: desc('container_memory_working_set_bytes', 'Current working set in bytes.', 'gauge'),
  memoryRss: desc('container_memory_rss', 'Size of RSS in bytes.', 'gauge'),
  fsUsage: desc(
    'container_fs_usage_bytes',
    'Number of bytes that are consumed by the container on this filesystem.',
    'gauge',
  ),
  fsLimit: desc(
    'container_fs_limit_bytes',
    'Number of bytes that can be consumed by the container on this filesystem.',
    'gauge',
  ),
  startTime: desc(
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds.',
    'gauge',
  ),
  lastSeen: desc('container_last_seen', 'Last time a container was seen by the exporter', 'gauge'),
  scrapeError: desc(
    'container_scrape_error',
    '1 if there was an error while getting container metrics, 0 otherwise',
    'gauge',
  ),
} satisfies Record<string, MetricDesc>;

function desc(name: string, help: string, type: MetricDesc['type']): MetricDesc {
  return { name, help, type };
}

type Labels = Record<string, string>;
type Families = Record<keyof typeof cadvisorMetricDescs, MetricFamily>;

/** What the runtime knows of a container beyond the stats: cAdvisor's `name` alias and image. */
export interface ContainerIdentity {
  /** The runtime's container ID (cAdvisor's first alias for a containerd container). */
  id: string;
  /** The container's image, as the runtime reports it (cAdvisor's `image` label). */
  image: string;
}

/** Looks up the runtime's identity of a pod's container by name; undefined leaves the `name` and `image` labels blank. */
export type IdentifyContainer = (pod: PodReference, container: string) => ContainerIdentity | undefined;

function baseLabels(namespace: string, pod: string, container: string, identity?: ContainerIdentity): Labels {
  return { container, id: '', image: identity?.image ?? '', name: identity?.id ?? '', namespace, pod };
}

function stamped(value: number | undefined, time: string, labels: Labels): Sample[] {
  return value === undefined ? [] : [{ labels, value, timestampMs: Date.parse(time) }];
}

/** One cgroup's CPU and memory rows; cAdvisor labels the total (no per-CPU stats) cpu="total". */
function addUsage(families: Families, labels: Labels, cpu?: CPUStats, memory?: MemoryStats): void {
  // cAdvisor leaves out a zero total (a container that has not run yet).
  if (cpu?.usageCoreNanoSeconds) {
    families.cpuUsage.samples.push(
      ...stamped(cpu.usageCoreNanoSeconds / 1e9, cpu.time, { ...labels, cpu: 'total' }),
    );
  }
  if (memory) {
    families.memoryUsage.samples.push(...stamped(memory.usageBytes, memory.time, labels));
    families.memoryWorkingSet.samples.push(...stamped(memory.workingSetBytes, memory.time, labels));
    families.memoryRss.samples.push(...stamped(memory.rssBytes, memory.time, labels));
  }
}

/**
 * The writable layer's filesystem. cAdvisor labels it by block device; the summary has no device,
 * so `device` is blank. The limit is the filesystem's capacity, as cAdvisor reports it.
 */
function addFs(families: Families, labels: Labels, rootfs?: FsStats): void {
  if (!rootfs) return;
  const fsLabels = { ...labels, device: '' };
  families.fsUsage.samples.push(...stamped(rootfs.usedBytes, rootfs.time, fsLabels));
  families.fsLimit.samples.push(...stamped(rootfs.capacityBytes, rootfs.time, fsLabels));
}

/** The root cgroup's labels: cAdvisor's `/` container, no pod, no container. */
const rootLabels: Labels = { container: '', id: '/', image: '', name: '', namespace: '', pod: '' };

/**
 * The families for one scrape at `nowMs`; `summary` undefined means getting the stats failed
 * (then container_scrape_error is 1 and the only series). `pressure` is whether the kubelet
 * includes cAdvisor's PressureMetrics: upstream v1.36 does when KubeletPSI is on (GA and locked
 * on in v1.36) and the kernel has PSI (kernel-psi.ts), whatever the cgroup version.
 */
export function cadvisorMetricFamilies(
  summary: Summary | undefined,
  nowMs: number,
  identify: IdentifyContainer = () => undefined,
  pressure: boolean = hostKernelPsiEnabled(),
): MetricFamily[] {
  const families = Object.fromEntries(
    Object.entries(cadvisorMetricDescs).map(([key, value]) => [
      key,
      { desc: value, samples: [] as Sample[] },
    ]),
  ) as Families;
  families.scrapeError.samples.push({ value: summary ? 0 : 1 });
  if (!summary) return Object.values(families);
  const rows: PressureRow[] = [];
  const addRow = (labels: Labels, startTime: string, stats: Omit<PressureRow, 'labels'>) => {
    const started = Date.parse(startTime);
    if (started > 0) families.startTime.samples.push({ labels, value: started / 1000 });
    addUsage(families, labels, stats.cpu, stats.memory);
    families.lastSeen.samples.push({ labels, value: Math.floor(nowMs / 1000), timestampMs: nowMs });
    rows.push({ labels, cpu: stats.cpu, memory: stats.memory, io: stats.io });
  };
  addRow(rootLabels, summary.node.startTime, summary.node);
  for (const pod of summary.pods) {
    const { namespace, name } = pod.podRef;
    for (const container of pod.containers) {
      const labels = baseLabels(namespace, name, container.name, identify(pod.podRef, container.name));
      addRow(labels, container.startTime, container);
      addFs(families, labels, container.rootfs);
    }
    addRow(baseLabels(namespace, name, ''), pod.startTime, pod);
  }
  return [...Object.values(families), ...(pressure ? pressureFamilies(rows) : [])];
}
