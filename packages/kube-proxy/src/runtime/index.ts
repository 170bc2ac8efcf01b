// `@nodeagent/kube-proxy/runtime`: what the daemon runs beside a proxier — health and metrics
// servers, node IPs, sysctls, OOM score, nfacct, profiling, the sync runner and the
// command runner (the root exports the common part).
/** clientConnection.qps/burst: the informer package's client-go token bucket, for the daemon's KubeConfig. */
export { rateLimitedKubeConfig, TokenBucketRateLimiter } from '@nodeagent/informer';
/** Connects KubeProxyMetrics' rest_client_* series to the daemon's API requests. */
export { setRestClientMetrics } from '@nodeagent/informer/rest-client-metrics';
export {
  BoundedFrequencyRunner,
  type BoundedFrequencyRunnerOptions,
} from './bounded-frequency-runner';
export { execSysctlLayer } from './exec-sysctl-layer';
export { formatGoTime } from './go-time';
export { HealthzServer, type HealthzServerOptions } from './healthz-server';
export { splitHostPort } from './listen';
export { KubeProxyMetrics } from './metrics';
export { MetricsServer } from './metrics-server';
export {
  CT_STATE_INVALID_DROPPED_COUNTER,
  KUBE_PROXY_NFACCT_COUNTERS,
  LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
  type NfacctClient,
  type NfacctCounter,
  NfacctError,
  NfacctUnavailableError,
  netlinkNfacct,
  openNetlinkNfacct,
} from './nfacct';
export { NFACCT_METRICS, registerNfacctMetrics } from './nfacct-metrics';
export {
  type DetectedNodeIPs,
  detectNodeIPs,
  NODE_IPS_BACKOFF_MS,
  nodeHostIPs,
  POD_CIDR_TIMEOUT_MS,
  PodCIDRTimeoutError,
  type WaitForNodeIPsOptions,
  type WaitForPodCIDRsOptions,
  waitForNodeIPs,
  waitForPodCIDRs,
} from './node-ips';
export {
  type ApplyNodeSysctlsResult,
  applyNodeSysctls,
  CONNTRACK_HASHSIZE_PATH,
  conntrackMax,
  type HashsizeFile,
  hashsizeFile,
  NodeSysctlError,
  needsRouteLocalnet,
  planNodeSysctls,
} from './node-sysctls';
export { applyOomScoreAdj, OOM_SCORE_ADJ_PATH, OomScoreAdjError } from './oom-score-adj';
export { procSysctlLayer, SysctlWriteError, sysctlPath } from './proc-sysctl-layer';
export { collectProcessMetrics } from './process-metrics';
export { serveProfiling } from './profiling';
export { type HealthStatus, ProxierHealth } from './proxier-health';
export { type ProxyLogger, silentLogger } from './proxy-logger';
export { nodeReader } from './read-node';
export { runQueueWaitMs } from './run-queue-wait';
export { ServiceHealthServer, type ServiceHealthServerOptions } from './service-health-server';
export type { SysctlLayer } from './sysctl-layer';
