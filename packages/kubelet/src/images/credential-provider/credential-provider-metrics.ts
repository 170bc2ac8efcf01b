import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Upstream pkg/credentialprovider/plugin/metrics.go, on the kubelet's /metrics registry. */
export interface CredentialProviderMetrics {
  duration: Histogram<'plugin_name'>;
  errors: Counter<'plugin_name'>;
}

/** kubelet_credential_provider_config_info{hash}: the configuration loaded, as its hash (value 1). */
export function recordCredentialProviderConfigHash(registry: Registry, hash: string): void {
  const name = 'kubelet_credential_provider_config_info';
  const gauge =
    (registry.getSingleMetric(name) as Gauge<'hash'> | undefined) ??
    new Gauge({
      name,
      help: 'Information about the last applied credential provider configuration with hash as label',
      labelNames: ['hash'],
      registers: [registry],
    });
  gauge.reset();
  gauge.set({ hash }, 1);
}

const defBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Registers the two plugin metrics once per registry (a second call reuses them). */
export function credentialProviderMetrics(registry: Registry): CredentialProviderMetrics {
  const existing = registry.getSingleMetric('kubelet_credential_provider_plugin_duration');
  if (existing)
    return {
      duration: existing as Histogram<'plugin_name'>,
      errors: registry.getSingleMetric(
        'kubelet_credential_provider_plugin_errors_total',
      ) as Counter<'plugin_name'>,
    };
  return {
    duration: new Histogram({
      name: 'kubelet_credential_provider_plugin_duration',
      help: 'Duration of execution in seconds for credential provider plugin',
      labelNames: ['plugin_name'],
      buckets: defBuckets,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'kubelet_credential_provider_plugin_errors_total',
      help: 'Number of errors from credential provider plugin',
      labelNames: ['plugin_name'],
      registers: [registry],
    }),
  };
}
