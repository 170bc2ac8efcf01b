// `@nodeagent/kube-proxy`: what most users need — the configuration, the data model, the daemon's
// wiring (cluster watch, health, metrics, logging, node facts) and `--cleanup`. Each proxy mode
// is a subpath (`/iptables`, `/nftables`, `/ipvs`, `/userspace`); the full configuration, model
// and runtime surfaces are `/config`, `/model` and `/runtime`; fakes are `/testing`.
export { cleanupAllProxyChains } from './cleanup/cleanup-all-chains';
export {
  type CleanupLeftoversOptions,
  type CleanupLeftoversResult,
  cleanupLeftovers,
} from './cleanup/cleanup-leftovers';
export {
  defaultKubeProxyConfiguration,
  effectiveProxyMode,
  type KubeProxyConfiguration,
  loadKubeProxyConfiguration,
  type ProxyMode,
  parseKubeProxyConfiguration,
} from './config/kube-proxy-configuration';
export {
  checkSettingSupport,
  formatSettingProblem,
  UnsupportedSettingsError,
} from './config/settings-support';
export {
  InvalidConfigurationError,
  InvalidFieldError,
  isInvalidConfigurationError,
  isInvalidFieldError,
  KubeProxyError,
} from './errors';
export { type CategorizedEndpoints, categorizeEndpoints } from './model/categorize-endpoints';
export { type EndpointInfo, endpointsFromSlices } from './model/endpoint';
export { applyEndpointsChanges, EndpointsChangeTracker } from './model/endpoints-change-tracker';
export { type IPFamily, ipFamilyOf } from './model/ip-family';
export { type ProxySnapshot, ProxyState, snapshotFromObjects } from './model/proxy-snapshot';
export { applyServiceChanges, ServiceChangeTracker } from './model/service-change-tracker';
export { type ServicePort, type ServicePortName, servicePortsFromService } from './model/service-port';
export { HealthzServer } from './runtime/healthz-server';
export { KubeProxyMetrics } from './runtime/metrics';
export { MetricsServer } from './runtime/metrics-server';
export { detectNodeIPs, waitForNodeIPs, waitForPodCIDRs } from './runtime/node-ips';
export { applyOomScoreAdj } from './runtime/oom-score-adj';
export { ProxierHealth } from './runtime/proxier-health';
export { type ProxyLogger, silentLogger } from './runtime/proxy-logger';
export { nodeReader } from './runtime/read-node';
export { ServiceHealthServer } from './runtime/service-health-server';
export { type NodeFacts, nodePortIPsFromConfig } from './shared/backend-options-from-config';
export { type ConntrackCleaner, netlinkConntrack } from './shared/conntrack-cleaner';
export { type ConntrackReconcileResult, reconcileConntrack } from './shared/conntrack-reconciler';
export type { SyncResult } from './shared/proxier-base';
export { multiFamilyHandler, type ProxyHandler } from './shared/proxy-handler';
export {
  type ClusterWatch,
  PROXY_LABEL_SELECTOR,
  type WatchClusterOptions,
  watchCluster,
} from './shared/watch-cluster';
