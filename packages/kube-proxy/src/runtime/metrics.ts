import {
  componentBaseMetricStability,
  type RestClientMetricSet,
  registerBuildInfo,
  registerRestClientMetrics,
} from '@nodeagent/primitives/component-base-metrics';
import { annotateRegistryHelp, type MetricStabilityTable } from '@nodeagent/primitives/metric-stability';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IPFamily } from '../model/ip-family';

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

function linearBuckets(start: number, width: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + width * i);
}

// Network programming latency spans sub-second to minutes; upstream merges these ranges.
const NETWORK_PROGRAMMING_BUCKETS = [
  ...linearBuckets(0.25, 0.25, 2),
  ...linearBuckets(1, 1, 59),
  ...linearBuckets(60, 5, 12),
  ...linearBuckets(120, 30, 7),
].filter((v, i, a) => a.indexOf(v) === i);

/**
 * The label upstream (v1.33, kubernetes/kubernetes#129173) put on the metrics one proxier per IP
 * family records, so that a dual-stack node's IPv4 and IPv6 syncs stop mixing in one series;
 * its value is the family, "IPv4" or "IPv6".
 */
const IP_FAMILY_LABEL = ['ip_family'];

/**
 * The component-base stability level of every metric kube-proxy registers on its /metrics
 * registry (here, runtime/nfacct-metrics.ts and userspace/userspace-metrics.ts), which upstream
 * writes at the start of each HELP (`# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA]
 * SyncProxyRules latency in seconds`). From the Kubernetes Metrics Reference v1.34
 * (kubernetes/website content/en/docs/reference/instrumentation/metrics.md: every kubeproxy_*
 * ALPHA, the nfacct pair included) and the generated metrics-list diffs v1.34.0 → v1.35.0 and
 * v1.35.0 → v1.36.0, which change no kubeproxy_* level and deprecate none. kubeproxy_userspace_*
 * have no upstream counterpart; they get ALPHA, component-base's level for a metric that declares
 * none (opts.go setDefaults). component-base's kubernetes_build_info and rest_client_* come from
 * componentBaseMetricStability. process_* and nodejs_* (client_golang's raw collectors upstream)
 * are not listed and keep a bare HELP.
 */
export const kubeProxyMetricStability: MetricStabilityTable = {
  ...componentBaseMetricStability,
  kubeproxy_conntrack_reconciler_deleted_entries_total: 'ALPHA',
  kubeproxy_conntrack_reconciler_sync_duration_seconds: 'ALPHA',
  kubeproxy_iptables_ct_state_invalid_dropped_packets_total: 'ALPHA',
  kubeproxy_iptables_localhost_nodeports_accepted_packets_total: 'ALPHA',
  kubeproxy_network_programming_duration_seconds: 'ALPHA',
  kubeproxy_proxy_healthz_total: 'ALPHA',
  kubeproxy_proxy_livez_total: 'ALPHA',
  kubeproxy_sync_full_proxy_rules_duration_seconds: 'ALPHA',
  kubeproxy_sync_partial_proxy_rules_duration_seconds: 'ALPHA',
  kubeproxy_sync_proxy_rules_duration_seconds: 'ALPHA',
  kubeproxy_sync_proxy_rules_endpoint_changes_pending: 'ALPHA',
  kubeproxy_sync_proxy_rules_endpoint_changes_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_iptables_last: 'ALPHA',
  kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_iptables_restore_failures_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_iptables_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds: 'ALPHA',
  kubeproxy_sync_proxy_rules_last_timestamp_seconds: 'ALPHA',
  kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_nftables_sync_failures_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_no_local_endpoints_total: 'ALPHA',
  kubeproxy_sync_proxy_rules_service_changes_pending: 'ALPHA',
  kubeproxy_sync_proxy_rules_service_changes_total: 'ALPHA',
  kubeproxy_userspace_active_connections: 'ALPHA',
  kubeproxy_userspace_connection_errors_total: 'ALPHA',
  kubeproxy_userspace_connections_total: 'ALPHA',
};

/**
 * kube-proxy's metrics under upstream names, on a registry of their own, whose text output carries
 * `kubeProxyMetricStability`'s levels in HELP (for metrics registered on it later too).
 */
export class KubeProxyMetrics {
  readonly registry: Registry;
  readonly syncProxyRulesLatency: Histogram;
  readonly syncFullProxyRulesLatency: Histogram;
  readonly syncPartialProxyRulesLatency: Histogram;
  readonly syncProxyRulesLastTimestamp: Gauge;
  readonly syncProxyRulesLastQueuedTimestamp: Gauge;
  readonly networkProgrammingLatency: Histogram;
  readonly endpointChangesPending: Gauge;
  readonly endpointChangesTotal: Counter;
  readonly serviceChangesPending: Gauge;
  readonly serviceChangesTotal: Counter;
  readonly iptablesRestoreFailuresTotal: Counter;
  readonly iptablesPartialRestoreFailuresTotal: Counter;
  readonly iptablesRulesTotal: Gauge;
  readonly iptablesRulesLast: Gauge;
  readonly nftablesSyncFailuresTotal: Counter;
  readonly nftablesCleanupFailuresTotal: Counter;
  readonly noLocalEndpointsTotal: Gauge;
  readonly proxyHealthzTotal: Counter;
  readonly proxyLivezTotal: Counter;
  /** How long one conntrack reconcile of a family took (upstream's ReconcileConntrackFlowsLatency). */
  readonly conntrackReconcilerLatency: Histogram;
  /** UDP conntrack entries the reconciler deleted, per family. */
  readonly conntrackReconcilerDeletedTotal: Counter;
  /**
   * The rest_client_* series (component-base's, on every binary's /metrics): connect them to the
   * API client with the informer's setRestClientMetrics so kube-proxy's API requests count.
   */
  readonly restClient: RestClientMetricSet;

  constructor(registry = new Registry()) {
    this.registry = annotateRegistryHelp(registry, kubeProxyMetricStability);
    const r = [registry];
    // kubernetes_build_info, on every binary's /metrics as upstream registers it at init.
    registerBuildInfo(registry);
    this.restClient = registerRestClientMetrics(registry);
    const syncBuckets = exponentialBuckets(0.001, 2, 15);
    this.syncProxyRulesLatency = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: syncBuckets,
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.syncFullProxyRulesLatency = new Histogram({
      name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for full resyncs',
      buckets: syncBuckets,
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.syncPartialProxyRulesLatency = new Histogram({
      name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for partial resyncs',
      buckets: syncBuckets,
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.syncProxyRulesLastTimestamp = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.syncProxyRulesLastQueuedTimestamp = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      help: 'The last time a sync of proxy rules was queued',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.networkProgrammingLatency = new Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      buckets: NETWORK_PROGRAMMING_BUCKETS,
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.endpointChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
      help: 'Pending proxy rules Endpoint changes',
      registers: r,
    });
    this.endpointChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
      registers: r,
    });
    this.serviceChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_service_changes_pending',
      help: 'Pending proxy rules Service changes',
      registers: r,
    });
    this.serviceChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
      registers: r,
    });
    this.iptablesRestoreFailuresTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      help: 'Cumulative proxy iptables restore failures',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.iptablesPartialRestoreFailuresTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      help: 'Cumulative proxy iptables partial restore failures',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.iptablesRulesTotal = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_total',
      help: 'Total number of iptables rules owned by kube-proxy',
      labelNames: ['table', 'ip_family'],
      registers: r,
    });
    this.iptablesRulesLast = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_last',
      help: 'Number of iptables rules written by kube-proxy in last sync',
      labelNames: ['table', 'ip_family'],
      registers: r,
    });
    this.nftablesSyncFailuresTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      help: 'Cumulative proxy nftables sync failures',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.nftablesCleanupFailuresTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total',
      help: 'Cumulative proxy nftables cleanup failures',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.noLocalEndpointsTotal = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy', 'ip_family'],
      registers: r,
    });
    this.proxyHealthzTotal = new Counter({
      name: 'kubeproxy_proxy_healthz_total',
      help: 'Cumulative proxy healthz HTTP status',
      labelNames: ['code'],
      registers: r,
    });
    this.proxyLivezTotal = new Counter({
      name: 'kubeproxy_proxy_livez_total',
      help: 'Cumulative proxy livez HTTP status',
      labelNames: ['code'],
      registers: r,
    });
    this.conntrackReconcilerLatency = new Histogram({
      name: 'kubeproxy_conntrack_reconciler_sync_duration_seconds',
      help: 'ReconcileConntrackFlowsLatency latency in seconds',
      buckets: syncBuckets,
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
    this.conntrackReconcilerDeletedTotal = new Counter({
      name: 'kubeproxy_conntrack_reconciler_deleted_entries_total',
      help: 'Cumulative conntrack flows deleted by conntrack reconciler',
      labelNames: IP_FAMILY_LABEL,
      registers: r,
    });
  }

  /** Records one completed sync of the `family` proxier. */
  observeSync(family: IPFamily, kind: 'full' | 'partial', seconds: number, nowMs: number): void {
    const labels = { ip_family: family };
    this.syncProxyRulesLatency.observe(labels, seconds);
    (kind === 'full' ? this.syncFullProxyRulesLatency : this.syncPartialProxyRulesLatency).observe(
      labels,
      seconds,
    );
    this.syncProxyRulesLastTimestamp.set(labels, nowMs / 1000);
  }

  /** Observes the `family` proxier's programming latency from slice trigger times to `nowMs`. */
  observeNetworkProgramming(family: IPFamily, triggerTimesMs: readonly number[], nowMs: number): void {
    for (const t of triggerTimesMs)
      if (nowMs >= t) this.networkProgrammingLatency.observe({ ip_family: family }, (nowMs - t) / 1000);
  }

  /**
   * Counts one health answer by status code in kubeproxy_proxy_healthz_total or
   * kubeproxy_proxy_livez_total: pass it as HealthzServer's `onResponse`.
   */
  healthzResponse(path: '/healthz' | '/livez', code: number): void {
    (path === '/healthz' ? this.proxyHealthzTotal : this.proxyLivezTotal).inc({ code: String(code) });
  }
}
