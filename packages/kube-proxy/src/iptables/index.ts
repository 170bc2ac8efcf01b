// `@nodeagent/kube-proxy/iptables`: the iptables mode, and the iptables plumbing every mode that
// writes iptables rules shares (executor, restore payloads, local-traffic detectors).

export { localDetectorFromConfig } from '../shared/backend-options-from-config';
export {
  type ExecIptablesOptions,
  execIptables,
  type IptablesExecutor,
  type IptablesPayloadEstimate,
  type IptablesTableName,
  iptablesExecutor,
} from '../shared/iptables-executor';
export {
  type IptablesRuleset,
  type IptablesTable,
  type JumpRule,
  renderRestorePayload,
  renderRule,
} from '../shared/iptables-ruleset';
export {
  bridgeLocalDetector,
  cidrLocalDetector,
  interfacePrefixLocalDetector,
  type LocalDetector,
  NO_LOCAL_DETECTOR,
} from '../shared/local-detector';
export {
  type ExplainedEndpointChain,
  type ExplainedRule,
  type ExplainedServiceChain,
  formatServiceExplanation,
  type ServiceExplanation,
} from '../shared/service-explanation';
export type { BaseSetup } from './base-setup';
export {
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
} from './chain-names';
export { cleanupIptables, ownedChains } from './cleanup-iptables';
export { explainIptablesService } from './explain-service';
export type { IptablesBackendOptions } from './iptables-backend-options';
export { iptablesOptionsFromConfig } from './iptables-options-from-config';
export { IptablesProxier, type IptablesProxierOptions } from './iptables-proxier';
export {
  IptablesRuleCache,
  type IptablesSyncStream,
  type PreparedIptablesSync,
} from './iptables-rule-cache';
export { IPTABLES_JUMP_RULES, KUBELET_JUMP_RULES } from './jump-rules';
export { isLargeClusterMode, LARGE_CLUSTER_ENDPOINTS_THRESHOLD } from './large-cluster-mode';
export { renderIptablesRuleset } from './render-iptables-ruleset';
export { SyncStreamNotFinishedError } from './sync-stream-not-finished-error';
