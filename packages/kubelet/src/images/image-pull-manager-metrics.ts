import { Counter, Gauge, type Registry } from 'prom-client';

/** Upstream pkg/kubelet/images/pullmanager/metrics.go: mustpull check results. */
export type MustPullCheckResult =
  | 'credentialPolicyAllowed'
  | 'credentialRecordFound'
  | 'mustAuthenticate'
  | 'error';

/** The verified-pull metrics on the kubelet's /metrics registry. */
export interface ImagePullManagerMetrics {
  ondiskPullIntents: Gauge;
  ondiskPulledRecords: Gauge;
  mustPullChecks: Counter<'result'>;
}

function reuseOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Registers them once per registry (a second call reuses them). */
export function imagePullManagerMetrics(registry: Registry): ImagePullManagerMetrics {
  return {
    ondiskPullIntents: reuseOr(
      registry,
      'kubelet_imagemanager_ondisk_pullintents',
      () =>
        new Gauge({
          name: 'kubelet_imagemanager_ondisk_pullintents',
          help: 'Number of ImagePullIntents stored on disk.',
          registers: [registry],
        }),
    ),
    ondiskPulledRecords: reuseOr(
      registry,
      'kubelet_imagemanager_ondisk_pulledrecords',
      () =>
        new Gauge({
          name: 'kubelet_imagemanager_ondisk_pulledrecords',
          help: 'Number of ImagePulledRecords stored on disk.',
          registers: [registry],
        }),
    ),
    mustPullChecks: reuseOr(
      registry,
      'kubelet_imagemanager_image_mustpull_checks_total',
      () =>
        new Counter({
          name: 'kubelet_imagemanager_image_mustpull_checks_total',
          help: 'Counter for how many times kubelet checked whether credentials need to be re-verified to access an image',
          labelNames: ['result'],
          registers: [registry],
        }),
    ),
  };
}
