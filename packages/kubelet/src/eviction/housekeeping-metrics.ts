import { Counter, Gauge, type Registry } from 'prom-client';

/** Upstream metrics of the eviction manager and image GC (pkg/kubelet/metrics). */
export interface HousekeepingMetrics {
  /** kubelet_evictions{eviction_signal}: pods evicted, by the signal that caused it. */
  evictions: Counter<'eviction_signal'>;
  /** kubelet_image_garbage_collected_total{reason}: images removed, by "age" or "space". */
  imageGarbageCollected: Counter<'reason'>;
}

/** Registers kubelet_evictions and kubelet_image_garbage_collected_total in `registry`; call once per registry. */
export function createHousekeepingMetrics(registry: Registry): HousekeepingMetrics {
  const registers = [registry];
  return {
    evictions: new Counter({
      name: 'kubelet_evictions',
      help: 'Cumulative number of pod evictions by eviction signal',
      labelNames: ['eviction_signal'],
      registers,
    }),
    imageGarbageCollected: new Counter({
      name: 'kubelet_image_garbage_collected_total',
      help: 'Total number of images garbage collected by the kubelet, whether through disk usage or image age.',
      labelNames: ['reason'],
      registers,
    }),
  };
}

/** Upstream v1.36 MemoryQoS node totals (pkg/kubelet/metrics), in bytes. */
export interface MemoryQoSMetrics {
  /** kubelet_memory_qos_node_memory_min_bytes: the Guaranteed pods' memory.min, summed. */
  nodeMemoryMin: Gauge;
  /** kubelet_memory_qos_node_memory_low_bytes: the Burstable pods' memory.low, summed. */
  nodeMemoryLow: Gauge;
}

function gaugeOn(registry: Registry, name: string, help: string): Gauge {
  return (
    (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] })
  );
}

/**
 * The MemoryQoS gauges on `registry`, registered at the first call (the kubelet makes it once
 * MemoryQoS is enforced: the gate on, cgroup v2), reused after.
 */
export function memoryQoSMetrics(registry: Registry): MemoryQoSMetrics {
  return {
    nodeMemoryMin: gaugeOn(
      registry,
      'kubelet_memory_qos_node_memory_min_bytes',
      'Total cgroup v2 memory.min in bytes for Guaranteed pods. This memory is hard-reserved and never reclaimed by the kernel.',
    ),
    nodeMemoryLow: gaugeOn(
      registry,
      'kubelet_memory_qos_node_memory_low_bytes',
      'Total cgroup v2 memory.low in bytes for Burstable pods. This memory is soft-reserved and may be reclaimed under extreme pressure.',
    ),
  };
}
