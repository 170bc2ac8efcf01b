import { Counter, Histogram, type Registry } from 'prom-client';

/** Upstream's device plugin metrics (pkg/kubelet/metrics), by resource_name. */
export interface DevicePluginMetrics {
  /** kubelet_device_plugin_registration_total: Register calls received. */
  registrations: Counter<'resource_name'>;
  /** kubelet_device_plugin_alloc_duration_seconds: each Allocate call's duration. */
  allocDuration: Histogram<'resource_name'>;
}

/** The two metrics registered on `registry` (or on none, for a manager nobody scrapes). */
export function devicePluginMetrics(registry?: Registry): DevicePluginMetrics {
  const registers = registry ? [registry] : [];
  return {
    registrations: new Counter({
      name: 'kubelet_device_plugin_registration_total',
      help: '[ALPHA] Cumulative number of device plugin registrations. Broken down by resource name.',
      labelNames: ['resource_name'],
      registers,
    }),
    allocDuration: new Histogram({
      name: 'kubelet_device_plugin_alloc_duration_seconds',
      help: '[ALPHA] Duration in seconds to serve a device plugin Allocation request. Broken down by resource name.',
      labelNames: ['resource_name'],
      // Upstream metrics.DefBuckets.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
