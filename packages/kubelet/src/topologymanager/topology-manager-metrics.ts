import { Counter, Histogram, type Registry } from 'prom-client';

/** Upstream's scope label values (metrics.AlignScopeContainer, metrics.AlignScopePod). */
export type AlignScope = 'container' | 'pod';

/**
 * Upstream's boundary label values: the CPU manager counts physical_cpu (full-pcpus-only) and the
 * topology manager numa_node (single-numa-node); uncore_cache has no trigger in this kubelet.
 */
export type AlignBoundary = 'physical_cpu' | 'numa_node';

/**
 * Upstream's kubelet_container_aligned_compute_resources_* (pkg/kubelet/metrics), shared by the
 * CPU and topology managers: one registry holds each name once, so both get the same counters.
 */
export interface AlignedComputeResourcesMetrics {
  /** kubelet_container_aligned_compute_resources_count{boundary, scope}: aligned allocations. */
  aligned: Counter<'boundary' | 'scope'>;
  /** kubelet_container_aligned_compute_resources_failure_count{boundary, scope}: failed ones. */
  failures: Counter<'boundary' | 'scope'>;
}

/** The two aligned-compute counters registered on `registry` (or on none). */
export function alignedComputeResourcesMetrics(registry?: Registry): AlignedComputeResourcesMetrics {
  const registers = registry ? [registry] : [];
  return {
    aligned: new Counter({
      name: 'kubelet_container_aligned_compute_resources_count',
      help: '[ALPHA] Cumulative number of aligned compute resources allocated to containers by alignment type.',
      labelNames: ['boundary', 'scope'],
      registers,
    }),
    failures: new Counter({
      name: 'kubelet_container_aligned_compute_resources_failure_count',
      help: '[ALPHA] Cumulative number of failures to allocate aligned compute resources to containers by alignment type.',
      labelNames: ['boundary', 'scope'],
      registers,
    }),
  };
}

/** Upstream's topology manager metrics (pkg/kubelet/metrics). */
export interface TopologyManagerMetrics {
  /** kubelet_topology_manager_admission_requests_total: every Admit, under every policy. */
  admissionRequests: Counter;
  /** kubelet_topology_manager_admission_errors_total: a refused hint or a failed allocation (not under none). */
  admissionErrors: Counter;
  /** kubelet_topology_manager_admission_duration_ms: each Admit's duration in whole milliseconds. */
  admissionDuration: Histogram;
  /** The aligned-compute counters, numa_node boundary. */
  aligned: AlignedComputeResourcesMetrics;
}

/**
 * The topology manager's metrics registered on `registry` (or on none); `aligned` is given when
 * the CPU manager's metrics already registered the aligned-compute counters.
 */
export function topologyManagerMetrics(
  registry?: Registry,
  aligned: AlignedComputeResourcesMetrics = alignedComputeResourcesMetrics(registry),
): TopologyManagerMetrics {
  const registers = registry ? [registry] : [];
  return {
    admissionRequests: new Counter({
      name: 'kubelet_topology_manager_admission_requests_total',
      help: '[ALPHA] The number of admission requests where resources have to be aligned.',
      registers,
    }),
    admissionErrors: new Counter({
      name: 'kubelet_topology_manager_admission_errors_total',
      help: '[ALPHA] The number of admission request failures where resources could not be aligned.',
      registers,
    }),
    admissionDuration: new Histogram({
      name: 'kubelet_topology_manager_admission_duration_ms',
      help: '[ALPHA] Duration in milliseconds to serve a pod admission request.',
      // Upstream ExponentialBuckets(.05, 2, 15).
      buckets: Array.from({ length: 15 }, (_, i) => 0.05 * 2 ** i),
      registers,
    }),
    aligned,
  };
}
