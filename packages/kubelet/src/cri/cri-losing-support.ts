import { Gauge, type Registry } from 'prom-client';

/** The metric upstream's kubelet registers when the runtime lacks RuntimeConfig (pkg/kubelet/metrics). */
export const criLosingSupportMetric = 'kubelet_cri_losing_support';

/**
 * The release that drops the kubelet's fallback to its configured cgroupDriver, as upstream v1.36
 * labels it (cmd/kubelet/app/server.go getCgroupDriverFromCRI; moved to 1.38.0 only after v1.36).
 */
export const criLosingSupportVersion = '1.37.0';

/**
 * Counts, on `registry`, that this runtime will lose support in {@link criLosingSupportVersion}:
 * upstream registers the gauge only on this path, so `/metrics` names it only on a node whose
 * runtime has no RuntimeConfig (containerd 1.6). Registered once per registry, then reused.
 */
export function markCriLosingSupport(registry: Registry): void {
  const gauge =
    (registry.getSingleMetric(criLosingSupportMetric) as Gauge<'version'> | undefined) ??
    new Gauge({
      name: criLosingSupportMetric,
      help: 'the Kubernetes version that the currently running CRI implementation will lose support on if not upgraded.',
      labelNames: ['version'],
      registers: [registry],
    });
  gauge.inc({ version: criLosingSupportVersion });
}
