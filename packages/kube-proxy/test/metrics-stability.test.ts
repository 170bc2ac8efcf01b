import { afterEach, describe, expect, it } from 'vitest';
import { KubeProxyMetrics, kubeProxyMetricStability } from '../src/runtime/metrics';
import { MetricsServer } from '../src/runtime/metrics-server';
import type { NfacctClient } from '../src/runtime/nfacct';
import { registerNfacctMetrics } from '../src/runtime/nfacct-metrics';
import { collectProcessMetrics } from '../src/runtime/process-metrics';
import type { ProxyLogger } from '../src/runtime/proxy-logger';
import { UserspaceMetrics } from '../src/userspace/userspace-metrics';

const quiet: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** An nfacct whose every counter reads 7 packets. */
const nfacct: NfacctClient = {
  async ensure() {},
  async get(name) {
    return { name, packets: 7n, bytes: 420n };
  },
  close() {},
};

/** The HELP line of `name` in an exposition text, or undefined. */
function helpLine(text: string, name: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith(`# HELP ${name} `));
}

/** kube-proxy's registry with every metric the daemon registers on /metrics. */
function fullKubeProxyMetrics(): KubeProxyMetrics {
  const metrics = new KubeProxyMetrics();
  registerNfacctMetrics(metrics.registry, nfacct, quiet);
  new UserspaceMetrics(metrics.registry);
  collectProcessMetrics(metrics.registry);
  return metrics;
}

describe('kube-proxy metric HELP carries the component-base stability level, as upstream v1.36', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves [ALPHA] in front of kubeproxy_* HELP on /metrics, none on process_*', async () => {
    const metrics = fullKubeProxyMetrics();
    metrics.observeSync('IPv4', 'full', 0.5, 1_700_000_000_000);
    server = new MetricsServer('127.0.0.1:0', metrics, 'iptables');
    const { port } = await server.start();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // Upstream: pkg/proxy/metrics SyncProxyRulesLatency, StabilityLevel ALPHA.
    expect(helpLine(text, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(
      '# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in seconds',
    );
    expect(helpLine(text, 'kubeproxy_network_programming_duration_seconds')).toBe(
      '# HELP kubeproxy_network_programming_duration_seconds [ALPHA] In Cluster Network Programming Latency in seconds',
    );
    // The nfacct pair is a custom collector upstream (metrics.NewDesc with ALPHA): annotated too.
    expect(helpLine(text, 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total')).toBe(
      '# HELP kubeproxy_iptables_ct_state_invalid_dropped_packets_total [ALPHA] packets dropped by iptables to work around conntrack problems',
    );
    expect(text).toMatch(/^kubeproxy_iptables_ct_state_invalid_dropped_packets_total 7$/m);
    // client_golang's process collector is registered raw upstream: no level.
    expect(helpLine(text, 'process_cpu_seconds_total')).toBe(
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    );
  });

  it('annotates one metric read alone the same way', async () => {
    const metrics = new KubeProxyMetrics();
    expect(
      await metrics.registry.getSingleMetricAsString('kubeproxy_sync_proxy_rules_last_timestamp_seconds'),
    ).toContain(
      '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced\n',
    );
  });

  it('levels every kube-proxy metric on /metrics, and lists none it does not serve', async () => {
    const metrics = fullKubeProxyMetrics();
    const names = metrics.registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    expect(names.filter((name) => !Object.hasOwn(kubeProxyMetricStability, name))).toEqual([]);
    expect(Object.keys(kubeProxyMetricStability).filter((name) => !names.includes(name))).toEqual([]);
    const bare = (await metrics.registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('# HELP ') && !/^# HELP \S+ \[(ALPHA|BETA|STABLE)\] /.test(line))
      .map((line) => line.split(' ')[2]!);
    expect(bare.filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'))).toEqual([]);
  });
});
