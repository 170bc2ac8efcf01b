import { systemClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { markCriLosingSupport } from '../src/cri/cri-losing-support';
import { createHousekeepingMetrics, memoryQoSMetrics } from '../src/eviction/housekeeping-metrics';
import {
  credentialProviderMetrics,
  recordCredentialProviderConfigHash,
} from '../src/images/credential-provider/credential-provider-metrics';
import { imagePullManagerMetrics } from '../src/images/image-pull-manager-metrics';
import { collectProcessMetrics, createKubeletMetrics, kubeletMetricStability } from '../src/metrics';
import { renderExposition } from '../src/metrics-collectors/exposition-text';
import { registerVolumeStatsMetrics } from '../src/metrics-collectors/volume-stats-metrics';
import { ActualStateOfWorld } from '../src/pluginmanager/actual-state';
import { DesiredStateOfWorld } from '../src/pluginmanager/desired-state';
import { registerPluginManagerMetrics } from '../src/pluginmanager/plugin-manager-metrics';

/** The HELP line of `name` in an exposition text, or undefined. */
function helpLine(text: string, name: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith(`# HELP ${name} `));
}

/** A kubelet registry with every metric the kubelet registers on /metrics and /metrics/probes. */
function fullKubeletMetrics() {
  const metrics = createKubeletMetrics();
  createHousekeepingMetrics(metrics.registry);
  memoryQoSMetrics(metrics.registry);
  credentialProviderMetrics(metrics.registry);
  recordCredentialProviderConfigHash(metrics.registry, 'abc');
  imagePullManagerMetrics(metrics.registry);
  markCriLosingSupport(metrics.registry);
  collectProcessMetrics(metrics.registry);
  registerVolumeStatsMetrics(metrics.registry, async () => [], systemClock, 60_000);
  registerPluginManagerMetrics(metrics.registry, new DesiredStateOfWorld(Date.now), new ActualStateOfWorld());
  return metrics;
}

describe('kubelet metric HELP carries the component-base stability level, as upstream v1.36', () => {
  it('prefixes /metrics HELP with [ALPHA], metrics other parts register later included', async () => {
    const metrics = fullKubeletMetrics();
    metrics.startedPods.inc();
    const text = await metrics.registry.metrics();
    // Upstream: pkg/kubelet/metrics StartedPodsTotal, StabilityLevel ALPHA.
    expect(helpLine(text, 'kubelet_started_pods_total')).toBe(
      '# HELP kubelet_started_pods_total [ALPHA] Cumulative number of pods started',
    );
    expect(helpLine(text, 'kubelet_pod_start_sli_duration_seconds')).toMatch(
      /^# HELP kubelet_pod_start_sli_duration_seconds \[ALPHA\] Duration in seconds to start a pod, /,
    );
    expect(helpLine(text, 'kubelet_evictions')).toBe(
      '# HELP kubelet_evictions [ALPHA] Cumulative number of pod evictions by eviction signal',
    );
    expect(helpLine(text, 'kubelet_cri_losing_support')).toBe(
      '# HELP kubelet_cri_losing_support [ALPHA] the Kubernetes version that the currently running CRI implementation will lose support on if not upgraded.',
    );
    expect(helpLine(text, 'kubelet_imagemanager_image_mustpull_checks_total')).toMatch(
      /^# HELP kubelet_imagemanager_image_mustpull_checks_total \[ALPHA\] Counter for how many times/,
    );
    // client_golang's process collector is registered raw upstream: no level.
    expect(helpLine(text, 'process_cpu_seconds_total')).toBe(
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    );
  });

  it('annotates one metric read alone the same way', async () => {
    const metrics = createKubeletMetrics();
    expect(await metrics.registry.getSingleMetricAsString('kubelet_running_pods')).toContain(
      '# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox\n',
    );
  });

  it('prefixes /metrics/probes: prober_probe_total [BETA], prober_probe_duration_seconds [ALPHA]', async () => {
    const metrics = createKubeletMetrics();
    const text = await metrics.probesRegistry.metrics();
    expect(helpLine(text, 'prober_probe_total')).toBe(
      '# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.',
    );
    expect(helpLine(text, 'prober_probe_duration_seconds')).toBe(
      '# HELP prober_probe_duration_seconds [ALPHA] Duration in seconds for a probe response.',
    );
  });

  it('levels every kubelet metric on /metrics and /metrics/probes, and lists none it does not serve', async () => {
    const metrics = fullKubeletMetrics();
    const names = [...metrics.registry.getMetricsAsArray(), ...metrics.probesRegistry.getMetricsAsArray()]
      .map((metric) => metric.name)
      .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    expect(names.filter((name) => !Object.hasOwn(kubeletMetricStability, name))).toEqual([]);
    expect(Object.keys(kubeletMetricStability).filter((name) => !names.includes(name))).toEqual([]);
    const text = `${await metrics.registry.metrics()}${await metrics.probesRegistry.metrics()}`;
    const bare = text
      .split('\n')
      .filter((line) => line.startsWith('# HELP ') && !/^# HELP \S+ \[(ALPHA|BETA|STABLE)\] /.test(line))
      .map((line) => line.split(' ')[2]!);
    expect(bare.filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'))).toEqual([]);
  });

  it('leaves a registry the kubelet did not make as it is', async () => {
    const registry = new Registry();
    markCriLosingSupport(registry);
    expect(helpLine(await registry.metrics(), 'kubelet_cri_losing_support')).toBe(
      '# HELP kubelet_cri_losing_support the Kubernetes version that the currently running CRI implementation will lose support on if not upgraded.',
    );
  });

  it("writes a deprecated collector metric's HELP as component-base does", () => {
    // component-base counter_test.go: "[ALPHA] (Deprecated since 1.15.0) counter help".
    const text = renderExposition([
      {
        desc: {
          name: 'scrape_error',
          help: '1 if there was an error while getting container metrics, 0 otherwise',
          type: 'gauge',
          stability: { level: 'ALPHA', deprecatedVersion: '1.29.0' },
        },
        samples: [{ value: 0 }],
      },
    ]);
    expect(helpLine(text, 'scrape_error')).toBe(
      '# HELP scrape_error [ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise',
    );
  });
});
