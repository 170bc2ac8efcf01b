import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type AlignedComputeResourcesMetrics,
  alignedComputeResourcesMetrics,
} from '../topologymanager/topology-manager-metrics';

/** Upstream's CPU manager metrics (pkg/kubelet/metrics), set by the static policy. */
export interface CpuManagerMetrics {
  /** kubelet_cpu_manager_pinning_requests_total: Allocate calls for a container that gets exclusive CPUs. */
  pinningRequests: Counter;
  /** kubelet_cpu_manager_pinning_errors_total: those that failed. */
  pinningErrors: Counter;
  /** kubelet_cpu_manager_shared_pool_size_millicores: the shared pool less the reserved CPUs. */
  sharedPoolSizeMillicores: Gauge;
  /** kubelet_cpu_manager_exclusive_cpu_allocation_count: CPUs assigned exclusively. */
  exclusiveCpuAllocationCount: Gauge;
  /** kubelet_cpu_manager_allocation_per_numa{numa_node}: exclusive CPUs on each NUMA node holding some. */
  allocationPerNuma: Gauge<'numa_node'>;
  /** The aligned-compute counters, physical_cpu boundary (full-pcpus-only). */
  aligned: AlignedComputeResourcesMetrics;
}

/**
 * The CPU manager's metrics registered on `registry` (or on none); `aligned` is given when the
 * topology manager's metrics already registered the aligned-compute counters.
 */
export function cpuManagerMetrics(
  registry?: Registry,
  aligned: AlignedComputeResourcesMetrics = alignedComputeResourcesMetrics(registry),
): CpuManagerMetrics {
  const registers = registry ? [registry] : [];
  return {
    pinningRequests: new Counter({
      name: 'kubelet_cpu_manager_pinning_requests_total',
      help: '[ALPHA] The number of cpu core allocations which required pinning.',
      registers,
    }),
    pinningErrors: new Counter({
      name: 'kubelet_cpu_manager_pinning_errors_total',
      help: '[ALPHA] The number of cpu core allocations which required pinning failed.',
      registers,
    }),
    sharedPoolSizeMillicores: new Gauge({
      name: 'kubelet_cpu_manager_shared_pool_size_millicores',
      help: '[ALPHA] The size of the shared CPU pool for non-guaranteed QoS pods, in millicores.',
      registers,
    }),
    exclusiveCpuAllocationCount: new Gauge({
      name: 'kubelet_cpu_manager_exclusive_cpu_allocation_count',
      help: '[ALPHA] The total number of CPUs exclusively allocated to containers running on this node',
      registers,
    }),
    allocationPerNuma: new Gauge({
      name: 'kubelet_cpu_manager_allocation_per_numa',
      help: '[ALPHA] Number of CPUs allocated per NUMA node',
      labelNames: ['numa_node'],
      registers,
    }),
    aligned,
  };
}
