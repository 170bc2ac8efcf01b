import { annotateRegistryHelp } from '@nodeagent/primitives/metric-stability';
import { Gauge, type Registry } from 'prom-client';

/** Upstream's two graceful shutdown gauges (pkg/kubelet/metrics), in seconds since the epoch. */
export interface ShutdownMetrics {
  /** kubelet_graceful_shutdown_start_time_seconds. */
  startTime: Gauge<never>;
  /** kubelet_graceful_shutdown_end_time_seconds. */
  endTime: Gauge<never>;
}

/** Registers the graceful shutdown gauges on `registry`, ALPHA in their HELP as upstream's. */
export function registerShutdownMetrics(registry: Registry): ShutdownMetrics {
  annotateRegistryHelp(registry, {
    kubelet_graceful_shutdown_start_time_seconds: 'ALPHA',
    kubelet_graceful_shutdown_end_time_seconds: 'ALPHA',
  });
  return {
    startTime: new Gauge({
      name: 'kubelet_graceful_shutdown_start_time_seconds',
      help: 'Last graceful shutdown start time since unix epoch in seconds',
      registers: [registry],
    }),
    endTime: new Gauge({
      name: 'kubelet_graceful_shutdown_end_time_seconds',
      help: 'Last graceful shutdown end time since unix epoch in seconds',
      registers: [registry],
    }),
  };
}

/** Upstream timestamp(): whole seconds (time.Unix), 0 for a time not recorded. */
export function epochSeconds(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.floor(ms / 1000);
}
