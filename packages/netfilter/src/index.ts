// @nodeagent/netfilter: iptables (restore format) and nftables rule models, renderers,
// parsers, diffs, validation and atomic appliers, plus kube-proxy's chain-name helpers.

// How this package starts iptables/nft (inject one to run them elsewhere); defined in primitives.
export {
  type CommandOutput,
  type CommandRunner,
  InputAbortedError,
  isStreamedInput,
  localRunner,
  netnsRunner,
  type RunCommandOptions,
  type StreamedInput,
} from '@nodeagent/primitives';
export {
  ApplyError,
  InvalidFieldError,
  NetfilterError,
  ObjectReferenceError,
  ParseError,
  UnknownTargetError,
} from './errors';
export { base32, sha256Base32 } from './hash-names';

// iptables
export { detectIptablesBackend, type IptablesBackend, iptablesCommands } from './iptables/backend';
export {
  BUILTIN_CHAINS,
  isBuiltinChain,
  KNOWN_EXTENSION_TARGETS,
  MAX_CHAIN_NAME_LENGTH,
  MAX_COMMENT_LENGTH,
  TABLE_NAMES,
} from './iptables/builtins';
export { canonicalCidr, canonicalRule, kernelProbability, ruleKey } from './iptables/canonical';
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
} from './iptables/chain-names';
export {
  type ChainDiff,
  diffRulesets,
  isEmptyDiff,
  type RulesetDiff,
  restorePatch,
  type TableDiff,
} from './iptables/diff';
export { endpointProbability, formatHex, formatPort, formatProbability } from './iptables/format';
export {
  IptablesClient,
  type IptablesClientOptions,
  type RestoreOptions,
  type RestoreResult,
  type RestoreStrategy,
  type RestoreStreamOptions,
} from './iptables/iptables-client';
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
} from './iptables/model';
export { parseRuleArgs, parseSave } from './iptables/parse-save';
export { checkPayloadReferences } from './iptables/payload-references';
export { type PayloadStats, payloadStats, widenNftCache } from './iptables/payload-stats';
export { quoteToken, splitTokens } from './iptables/quoting';
export { type RenderRestoreOptions, renderRestore, renderTable } from './iptables/render-restore';
export { renderRuleArgs } from './iptables/render-rule';
export { failedLineOf, lineAt } from './iptables/restore-error';
export { RestoreWriter } from './iptables/restore-writer';
export { checkChainName, type ValidateOptions, validateRuleset } from './iptables/validate';
export { widenNftCacheStream } from './iptables/widen-nft-cache-stream';

// nftables
export { FakeNftables } from './nftables/fake';
export {
  IncrementalNftTable,
  type NftChainContents,
  type NftContribution,
  type NftRuleBody,
} from './nftables/incremental-table';
export type {
  BaseChainHook,
  BaseChainType,
  NftChain,
  NftElement,
  NftFamily,
  NftMap,
  NftObject,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
} from './nftables/model';
export { NFT_NAME_LENGTH_MAX } from './nftables/model';
export {
  CHAIN_NAME_BASE_LENGTH_MAX,
  CHAIN_NAME_PREFIX_LENGTH_MAX,
  endpointAffinitySetName,
  endpointChainBase,
  endpointChainName,
  hashAndTruncate,
  nftChainName,
  serviceExternalChainName as nftServiceExternalChainName,
  serviceFirewallChainName as nftServiceFirewallChainName,
  serviceLocalChainName as nftServiceLocalChainName,
  servicePortChainBase,
  servicePortChainName as nftServicePortChainName,
} from './nftables/names';
export { NftablesClient, type NftablesClientOptions, nftErrorLine } from './nftables/nftables-client';
export type { NftablesInterface } from './nftables/nftables-interface';
export { parseNftJson, ruleTextsByHandle } from './nftables/parse-json';
export { parseScript } from './nftables/parse-script';
export { chainReferences, NFT_NAME_PATTERN, setReferences } from './nftables/references';
export { type RenderScriptOptions, renderElement, renderScript } from './nftables/render-script';
export { type NftOperation, NftTransaction, type NftVerb } from './nftables/transaction';
