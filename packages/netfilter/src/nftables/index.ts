// @nodeagent/netfilter/nftables: the nftables model, `nft -f` scripts and JSON, transactions,
// incremental tables, kube-proxy's nft chain and set names, the client.

export { InvalidFieldError } from '../errors';
export { base32, sha256Base32 } from '../hash-names';
export type { NftElementPacker, NftPackedElements } from './element-packer';
export type { NftElementTextSource, NftElementTextVisitor } from './element-text';
export {
  IncrementalNftTable,
  type IncrementalNftTableOptions,
  type NftChainContents,
  type NftContribution,
  type NftRuleBody,
} from './incremental-table';
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
} from './model';
export { NFT_NAME_LENGTH_MAX } from './model';
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
} from './names';
// nf_tables over netlink (no `nft` process): the client, its sockets and its errors. The native
// `netlink` addon is loaded only when a socket is opened.
export { NetlinkChannel, type NfnetlinkChannel } from './netlink/channel';
export {
  NetlinkNftablesClient,
  type NetlinkNftablesClientOptions,
  type NftBatchStats,
} from './netlink/client';
export type { NetlinkRule } from './netlink/decode';
export {
  NftBatchTooLargeError,
  NftKernelError,
  NftNetlinkTransportError,
  NftNetlinkUnavailableError,
} from './netlink/errors';
export { NetnsChannel, type NetnsChannelOptions } from './netlink/netns-channel';
// The rule compiler's interface, for a caller that supplies its own `compileRule` / `decompileRule`.
export type { AnonymousSetContents, DecompileContext } from './netlink/rule/decompile-rule';
export type {
  AllocateAnonymousSet,
  AnonymousSet,
  CompiledRule,
  CompileRule,
  CompileRuleInput,
  NetlinkSetInfo,
  RuleBatchState,
} from './netlink/rule/types';
export { NftablesClient, type NftablesClientOptions, nftErrorLine } from './nftables-client';
export type { NftablesInterface } from './nftables-interface';
export type {
  NftPackedElementSource,
  NftPackedElementSteps,
  NftPackedElementVisitor,
} from './packed-element';
export type { PackedMark as NftPackedKeyPrefix } from './packed-parts';
export { parseNftJson, ruleTextsByHandle } from './parse-json';
export { parseScript } from './parse-script';
export { chainReferences, NFT_NAME_PATTERN, setReferences } from './references';
export { type RenderScriptOptions, renderElement, renderScript } from './render-script';
export { type NftOperation, NftTransaction, type NftVerb } from './transaction';
