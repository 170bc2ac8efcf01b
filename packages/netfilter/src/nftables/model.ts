// The nftables object model, in the spirit of knftables: a table holds chains, rules, sets and
// maps; rules are nft expressions as text (the syntax `nft -f` reads), the rest is structured.

/** An nftables table family. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
/** A base chain's type. */
export type BaseChainType = 'filter' | 'nat' | 'route';
/** The netfilter hook a base chain is attached to. */
export type BaseChainHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress';

/** An nftables table (in a transaction: the client's own). */
export interface NftTable {
  kind: 'table';
  comment?: string;
}

/** A chain: a regular one, or a base chain with type, hook and priority. */
export interface NftChain {
  kind: 'chain';
  name: string;
  /** Base chains: type, hook and priority together (a number or a name like `dstnat`, `filter - 10`). */
  type?: BaseChainType;
  hook?: BaseChainHook;
  priority?: number | string;
  policy?: 'accept' | 'drop';
  /** netdev ingress chains only. */
  device?: string;
  comment?: string;
}

/** A rule in a chain, its text in nft syntax. */
export interface NftRule {
  kind: 'rule';
  chain: string;
  /** The rule body in nft syntax, e.g. `ip daddr 10.0.0.1 tcp dport 80 jump svc`. */
  rule: string;
  comment?: string;
  /** Kernel handle: set when read back; needed to replace or delete one rule. */
  handle?: number;
  /** insert/add relative to the rule with this handle (`position`). */
  position?: number;
}

interface SetLike {
  name: string;
  /** Key type, `.`-joined for concatenations: `ipv4_addr . inet_proto . inet_service`. */
  type: string;
  /**
   * `type` (and a map's `valueType`) are expressions for nft's `typeof` form, e.g.
   * `ip daddr . numgen random mod 2` — the only way to key a map on expressions like numgen.
   */
  typeof?: boolean;
  flags?: readonly ('constant' | 'dynamic' | 'interval' | 'timeout')[];
  /** Default element timeout, nft syntax (`3h`, `30s`). */
  timeout?: string;
  size?: number;
  comment?: string;
}

/** A named set: key type, flags and elements. */
export interface NftSet extends SetLike {
  kind: 'set';
}

/** A named map: key and value types, flags and elements. */
export interface NftMap extends SetLike {
  kind: 'map';
  /** Value type: `verdict`, `ipv4_addr`, … */
  valueType: string;
}

/** One element of a set or map: its key, and value for a map. */
export interface NftElement {
  kind: 'element';
  /** The set or map the element belongs to. */
  container: string;
  /** Key parts (one per concatenated field), e.g. `['10.0.0.1', 'tcp', '80']`. */
  key: readonly string[];
  /** Map value parts, e.g. `['goto service-x']`. */
  value?: readonly string[];
  timeout?: string;
  comment?: string;
}

/** Anything a transaction operation acts on. */
export type NftObject = NftTable | NftChain | NftRule | NftSet | NftMap | NftElement;

/** A table's full contents: the model `nft -j list table` is read back into. */
export interface NftRuleset {
  family: NftFamily;
  table: string;
  comment?: string;
  chains: NftChain[];
  /** Rules per chain, in order. */
  rules: Record<string, NftRule[]>;
  sets: NftSet[];
  maps: NftMap[];
  /** Elements per set/map name. */
  elements: Record<string, NftElement[]>;
}

/** nft's own object-name limit (NFT_NAME_MAXLEN 256 with the NUL): knftables' NameLengthMax. */
export const NFT_NAME_LENGTH_MAX = 256;
