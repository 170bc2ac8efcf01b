// @nodeagent/netfilter/iptables: the iptables rule model and everything around it: restore-format
// rendering and parsing, diffs, validation, canonical forms, kube-proxy's chain names, the client.

export { InvalidFieldError } from '../errors';
export { base32, sha256Base32 } from '../hash-names';
export { detectIptablesBackend, type IptablesBackend, iptablesCommands } from './backend';
export {
  BUILTIN_CHAINS,
  isBuiltinChain,
  KNOWN_EXTENSION_TARGETS,
  MAX_CHAIN_NAME_LENGTH,
  MAX_COMMENT_LENGTH,
  TABLE_NAMES,
} from './builtins';
export {
  type CanaryChains,
  type CanaryMonitorLogger,
  type IptablesCanaryMonitor,
  type IptablesCanaryOptions,
  monitorIptablesCanary,
} from './canary-monitor';
export { canonicalCidr, canonicalRule, kernelProbability, ruleKey } from './canonical';
export {
  DEFAULT_MASQUERADE_BIT,
  endpointString,
  KUBE_EXTERNAL_SERVICES_CHAIN,
  KUBE_FORWARD_CHAIN,
  KUBE_MARK_MASQ_CHAIN,
  KUBE_NODEPORTS_CHAIN,
  KUBE_POSTROUTING_CHAIN,
  KUBE_PROXY_CANARY_CHAIN,
  KUBE_PROXY_FIREWALL_CHAIN,
  KUBE_SERVICES_CHAIN,
  KUBELET_FIREWALL_CHAIN,
  masqueradeMark,
  portProtoHash,
  serviceExternalChainName,
  serviceFirewallChainName,
  serviceLocalChainName,
  servicePortChainName,
  servicePortEndpointChainName,
  servicePortName,
} from './chain-names';
export {
  type ChainDiff,
  diffRulesets,
  isEmptyDiff,
  type RulesetDiff,
  restorePatch,
  type TableDiff,
} from './diff';
export { endpointProbability, formatHex, formatPort, formatProbability } from './format';
export {
  IptablesClient,
  type IptablesClientOptions,
  type RestoreOptions,
  type RestoreResult,
  type RestoreStrategy,
  type RestoreStreamOptions,
} from './iptables-client';
export type { IptablesInterface, RuleSpec } from './iptables-interface';
export type {
  AddrType,
  Chain,
  ChainPolicy,
  ConntrackState,
  IpFamily,
  Match,
  PortProtocol,
  PortSpec,
  Protocol,
  Rule,
  Ruleset,
  Table,
  TableName,
  Target,
} from './model';
export type { NftNetlinkRestoreOptions } from './nft-netlink-restore';
export {
  type IptablesNftBatchStats,
  IptablesNftNetlinkWriter,
  IptablesNftUnsupportedError,
  type IptablesNftWriteStats,
} from './nft-wire/index';
export { parseRuleArgs, parseSave } from './parse-save';
export { checkPayloadReferences } from './payload-references';
export { type PayloadStats, payloadStats, widenNftCache } from './payload-stats';
export { quoteToken, splitTokens } from './quoting';
export { type RenderRestoreOptions, renderRestore, renderTable } from './render-restore';
export { renderRuleArgs } from './render-rule';
export { failedLineOf, lineAt } from './restore-error';
export { RestoreWriter } from './restore-writer';
export { checkChainName, type ValidateOptions, validateRuleset } from './validate';
export { widenNftCacheStream } from './widen-nft-cache-stream';
