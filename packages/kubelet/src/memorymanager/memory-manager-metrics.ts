import { Counter, type Registry } from 'prom-client';

/** Upstream's memory manager metrics (pkg/kubelet/metrics), counted by the Static policy. */
export interface MemoryManagerMetrics {
  /** kubelet_memory_manager_pinning_requests_total: Allocate calls for a Guaranteed pod's container. */
  pinningRequests: Counter;
  /** kubelet_memory_manager_pinning_errors_total: those that failed. */
  pinningErrors: Counter;
}

/**
 * The two metrics registered on `registry` (or on none). Upstream registers them only with the
 * MemoryManager gate on, which is GA and locked on in v1.36: always.
 */
export function memoryManagerMetrics(registry?: Registry): MemoryManagerMetrics {
  const registers = registry ? [registry] : [];
  return {
    pinningRequests: new Counter({
      name: 'kubelet_memory_manager_pinning_requests_total',
      help: '[ALPHA] The number of memory pages allocations which required pinning.',
      registers,
    }),
    pinningErrors: new Counter({
      name: 'kubelet_memory_manager_pinning_errors_total',
      help: '[ALPHA] The number of memory pages allocations which required pinning that failed.',
      registers,
    }),
  };
}
