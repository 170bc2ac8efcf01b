import { Counter, type Registry } from 'prom-client';

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
