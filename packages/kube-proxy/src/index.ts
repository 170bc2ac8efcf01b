// Public surface of @nodeagent/kube-proxy.

/** clientConnection.qps/burst: the informer package's client-go token bucket, for the daemon's KubeConfig. */
export { rateLimitedKubeConfig, TokenBucketRateLimiter } from '@nodeagent/informer';
export { cleanupAllProxyChains } from './cleanup/cleanup-all-chains';
export {
  appendPortIfNeeded,
  KUBE_PROXY_OOM_SCORE_ADJ,
  PROTOBUF_CONTENT_TYPE,
  PROXY_HEALTHZ_PORT,
  PROXY_METRICS_PORT,
  setKubeProxyConfigurationDefaults,
} from './config/defaults';
export { formatDuration, parseDuration } from './config/duration';
export {
  defaultKubeProxyConfiguration,
  effectiveProxyMode,
  IPVS_SCHEDULERS,
  isCidr,
  KUBE_PROXY_CONFIG_API_VERSION,
  KUBE_PROXY_CONFIG_KIND,
  type KubeProxyConfiguration,
  type KubeProxyConfigurationInput,
  kubeProxyConfigurationSchema,
  LOCAL_MODES,
  LOG_FORMATS,
  type LocalMode,
  type LogFormat,
  loadKubeProxyConfiguration,
  PROXY_MODES,
  type ProxyMode,
  parseKubeProxyConfiguration,
  validateKubeProxyConfiguration,
} from './config/kube-proxy-configuration';
export {
  checkSettingSupport,
  formatSettingProblem,
  previousMinorVersion,
  SETTING_SUPPORT,
  type SettingContext,
  type SettingProblem,
  type SettingSupport,
  UnsupportedSettingsError,
} from './config/settings-support';
export { InvalidConfigurationError, InvalidFieldError, KubeProxyError } from './errors';
export { CommandFailedError, type CommandResult, runChecked, runCommand } from './exec/run-command';
export {
  type BuildIptablesInput,
  buildIptablesRuleset,
  IPTABLES_JUMP_RULES,
  type IptablesBuildResult,
  KUBELET_JUMP_RULES,
} from './iptables/build-iptables-ruleset';
export {
  base32Std,
  endpointChainName,
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  type ServiceChainNames,
  serviceChainNames,
} from './iptables/chain-names';
export { cleanupIptables, ownedChains } from './iptables/cleanup-iptables';
export { explainIptablesService } from './iptables/explain-service';
export type { IptablesBackendOptions } from './iptables/iptables-backend-options';
export { iptablesOptionsFromConfig } from './iptables/iptables-options-from-config';
export { IptablesProxier, type IptablesProxierOptions, type SyncResult } from './iptables/iptables-proxier';
export {
  IptablesRuleCache,
  type IptablesSyncStream,
  type PreparedIptablesSync,
} from './iptables/iptables-rule-cache';
export { isLargeClusterMode, LARGE_CLUSTER_ENDPOINTS_THRESHOLD } from './iptables/large-cluster-mode';
export { SyncStreamNotFinishedError } from './iptables/sync-stream-not-finished-error';
export * from './ipvs/index';
export {
  type IpvsBackendOptions,
  IpvsProxier,
  type IpvsProxierOptions,
} from './ipvs/ipvs-proxier';
export {
  type CategorizedEndpoints,
  categorizeEndpoints,
  LABEL_HOSTNAME,
  LABEL_TOPOLOGY_ZONE,
} from './model/categorize-endpoints';
export { cidrContains } from './model/cidr';
export {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  type EndpointInfo,
  endpointsFromSlice,
  endpointsFromSlices,
  LABEL_SERVICE_NAME,
  lastChangeTriggerTime,
  serviceOfSlice,
} from './model/endpoint';
export {
  applyEndpointsChanges,
  type EndpointsChange,
  EndpointsChangeTracker,
  type EndpointsCheckout,
  type EndpointsMapUpdate,
} from './model/endpoints-change-tracker';
export { type IPFamily, ipFamilyOf, joinHostPort } from './model/ip-family';
export { type ProxySnapshot, ProxyState, snapshotFromObjects } from './model/proxy-snapshot';
export {
  applyServiceChanges,
  type ServiceChange,
  ServiceChangeTracker,
  type ServiceMapUpdate,
} from './model/service-change-tracker';
export {
  DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
  externallyAccessible,
  type Protocol,
  type ServicePort,
  type ServicePortName,
  servicePortKey,
  servicePortsFromService,
  shouldSkipService,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from './model/service-port';
export {
  buildNftablesRuleset,
  NFTABLES_TABLE,
  type NftablesBackendOptions,
  type NftablesBuildResult,
  type NftLocalDetector,
  nftLocalDetector,
} from './nftables/build-nftables-ruleset';
export { explainNftablesService } from './nftables/explain-nftables-service';
export {
  fitsOneLine,
  NftSession,
  NftSessionError,
  type NftSessionOptions,
} from './nftables/nft-session';
export {
  type ExecNftablesOptions,
  execNftables,
  type NftablesExecutor,
} from './nftables/nftables-executor';
export { nftablesOptionsFromConfig } from './nftables/nftables-options-from-config';
export { NftablesProxier, type NftablesProxierOptions } from './nftables/nftables-proxier';
export { NftablesRuleset } from './nftables/nftables-ruleset';
export {
  BoundedFrequencyRunner,
  type BoundedFrequencyRunnerOptions,
} from './runtime/bounded-frequency-runner';
export { type Clock, FakeClock, systemClock } from './runtime/clock';
export { execSysctlLayer, type SysctlLayer } from './runtime/exec-sysctl-layer';
export { formatGoTime } from './runtime/go-time';
export { HealthzServer, type HealthzServerOptions } from './runtime/healthz-server';
export { splitHostPort } from './runtime/listen';
export {
  createProxyLogger,
  formatKlogLine,
  levelForVerbosity,
  type ProxyLoggerOptions,
} from './runtime/logging';
export { KubeProxyMetrics } from './runtime/metrics';
export { MetricsServer } from './runtime/metrics-server';
export {
  CT_STATE_INVALID_DROPPED_COUNTER,
  KUBE_PROXY_NFACCT_COUNTERS,
  LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
  type NfacctClient,
  type NfacctCounter,
  NfacctError,
  netlinkNfacct,
} from './runtime/nfacct';
export { NFACCT_METRICS, registerNfacctMetrics } from './runtime/nfacct-metrics';
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
} from './runtime/node-ips';
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
} from './runtime/node-sysctls';
export { applyOomScoreAdj, OOM_SCORE_ADJ_PATH, OomScoreAdjError } from './runtime/oom-score-adj';
export { serveProfiling } from './runtime/profiling';
export { type HealthStatus, ProxierHealth } from './runtime/proxier-health';
export { type ProxyLogger, silentLogger } from './runtime/proxy-logger';
export { nodeReader } from './runtime/read-node';
export { ServiceHealthServer, type ServiceHealthServerOptions } from './runtime/service-health-server';
export {
  localDetectorFromConfig,
  type NodeFacts,
  nodePortIPsFromConfig,
} from './shared/backend-options-from-config';
export { clearStaleConntrack } from './shared/clear-stale-conntrack';
export { type ConntrackCleaner, execConntrack } from './shared/conntrack-cleaner';
export {
  type ExecIptablesOptions,
  execIptables,
  type IptablesExecutor,
  type IptablesPayloadEstimate,
  type IptablesTableName,
} from './shared/iptables-executor';
export {
  type IptablesRuleset,
  type IptablesTable,
  type JumpRule,
  renderRestorePayload,
  renderRule,
} from './shared/iptables-ruleset';
export {
  bridgeLocalDetector,
  cidrLocalDetector,
  interfacePrefixLocalDetector,
  type LocalDetector,
  NO_LOCAL_DETECTOR,
} from './shared/local-detector';
export { multiFamilyHandler, type ProxyHandler } from './shared/proxy-handler';
export {
  type ExplainedEndpointChain,
  type ExplainedRule,
  type ExplainedServiceChain,
  formatServiceExplanation,
  type ServiceExplanation,
} from './shared/service-explanation';
export {
  type ClusterWatch,
  PROXY_LABEL_SELECTOR,
  type WatchClusterOptions,
  watchCluster,
} from './shared/watch-cluster';
export * from './userspace/index';
