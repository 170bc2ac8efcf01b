// @nodeagent/netfilter: atomic iptables and nftables appliers, their errors and the command
// runners they use. The rule models, renderers, parsers and diffs are at
// `@nodeagent/netfilter/iptables` and `/nftables`; the in-memory fakes at `/testing`.

// How this package starts iptables/nft (inject one to run them elsewhere) and the error for a
// tool that is not installed; defined in primitives, where the rest of the runner's types are.
export {
  CommandNotFoundError,
  type CommandRunner,
  InputAbortedError,
  isCommandNotFoundError,
  localRunner,
  netnsRunner,
} from '@nodeagent/primitives';
// The conntrack table over ctnetlink (list, delete by tuple), on nftables' NETLINK_NETFILTER channel.
export {
  type ConntrackFamily,
  type ConntrackFlow,
  ConntrackNetlink,
  ConntrackNetlinkError,
  type ConntrackTuple,
  decodeConntrackEntry,
  encodeConntrackDelete,
  encodeConntrackDump,
  IPPROTO_UDP,
} from './conntrack/index';
// InvalidFieldError is at /iptables and /nftables: kube-proxy's root has its own class of that name.
export {
  ApplyError,
  isApplyError,
  isParseError,
  NetfilterError,
  ObjectReferenceError,
  ParseError,
  UnknownTargetError,
} from './errors';
export { detectIptablesBackend, type IptablesBackend, iptablesCommands } from './iptables/backend';
export {
  IptablesClient,
  type IptablesClientOptions,
  type RestoreOptions,
  type RestoreResult,
  type RestoreStrategy,
  type RestoreStreamOptions,
} from './iptables/iptables-client';
export type { IptablesInterface, RuleSpec } from './iptables/iptables-interface';
export type { IpFamily, Ruleset, Table, TableName } from './iptables/model';
export type { NftFamily, NftRuleset } from './nftables/model';
export { NftablesClient, type NftablesClientOptions, nftErrorLine } from './nftables/nftables-client';
export type { NftablesInterface } from './nftables/nftables-interface';
export { type NftOperation, NftTransaction, type NftVerb } from './nftables/transaction';
