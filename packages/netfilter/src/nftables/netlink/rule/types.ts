// The interface between the netlink client (tables, chains, sets, batches) and the rule
// compiler (nft rule text → nf_tables expressions). The client owns set ids and anonymous set
// names; the compiler reads the named sets it may reference from `sets`.

import type { NftFamily } from '../../model';

/** What the compiler needs to know about a named set or map the rule may look up. */
export interface NetlinkSetInfo {
  name: string;
  /** nft key type text, `.`-joined for concatenations: `ipv4_addr . inet_proto . inet_service`. */
  keyType: string;
  /** Key length in bytes as the kernel stores it (concatenation parts 4-byte aligned). */
  keyLength: number;
  /** NFT_SET_* flags (NFT_SET_MAP, NFT_SET_INTERVAL, NFT_SET_TIMEOUT, …). */
  flags: number;
  /** Maps: nft value type text (`verdict`, `ipv4_addr`, …). */
  valueType?: string;
  /** Maps: value length in bytes (verdicts: 16 as the kernel reports NFT_DATA_VERDICT). */
  valueLength?: number;
  /**
   * Batch-local id (NFTA_SET_ID) when the set is created in the same batch as the rule;
   * lookups may reference it by NFTA_LOOKUP_SET_ID as well as by name.
   */
  setId?: number;
}

/**
 * An anonymous set (`{ tcp, udp }`, `{ 10.0.0.0/8, 192.168.0.0/16 }`) a rule needs. The client
 * creates it in the same batch as NFT_SET_ANONYMOUS | NFT_SET_CONSTANT (| NFT_SET_INTERVAL),
 * names it `__set%d` and gives it a batch-local NFTA_SET_ID.
 */
export interface AnonymousSet {
  /** nft key type text, e.g. `inet_proto`, `ipv4_addr`. */
  keyType: string;
  /** Extra NFT_SET_* flags the compiler wants besides ANONYMOUS | CONSTANT. */
  flags: number;
  /** Key length in bytes. */
  keyLength: number;
  /**
   * Encoded keys (data-types.ts `encodeKey`). For interval sets: the kernel's representation,
   * i.e. alternating start and end-exclusive keys, the end marked by `intervalEnd`.
   */
  elements: Buffer[];
  /** An interval set (NFT_SET_INTERVAL): `elements` are start/end pairs rather than single keys. */
  interval?: boolean;
  /** Interval sets: the indexes in `elements` that are interval ends (NFT_SET_ELEM_INTERVAL_END). */
  intervalEnd?: readonly number[];
  /**
   * Batch-local id the compiler put in its lookup expression as NFTA_LOOKUP_SET_ID (with
   * `name` as NFTA_LOOKUP_SET); both come from the input's `allocateSet`.
   */
  setId: number;
  /** The name `__set%d` the client allocated. */
  name: string;
  /**
   * NFTA_SET_DESC_SIZE as nft writes it: the element count, plus one when the last interval runs
   * to the top of the key space (nft counts its missing end).
   */
  size: number;
  /**
   * NFTA_SET_ELEM_USERDATA by element index: nft marks an interval start that has no end (it
   * runs to the top of the key space) with NFTNL_UDATA_SET_ELEM_FLAGS = INTERVAL_OPEN.
   */
  elementUserdata?: ReadonlyMap<number, Buffer>;
  /** Anonymous maps (NFT_SET_MAP in `flags`): the value type text (`verdict`, `ipv4_addr . inet_service`). */
  valueType?: string;
  /**
   * Anonymous maps: one value per element, each the payload of NFTA_SET_ELEM_DATA as
   * data-types.ts `encodeValue` writes it (an NFTA_DATA_VALUE attribute or NFTA_DATA_VERDICT nest).
   */
  values?: Buffer[];
}

/**
 * The client hands the compiler a callback that allocates the name and id of each anonymous set.
 * `kind` says whether it is a map (nft names those `__map%d`, sets `__set%d`).
 */
export type AllocateAnonymousSet = (kind: 'set' | 'map') => { name: string; setId: number };

/** One rule for the compiler to turn into expressions, with the table context it may refer to. */
export interface CompileRuleInput {
  /** The table's family: decides which payload offsets `ip`/`ip6` matches compile to. */
  family: NftFamily;
  /** The table the rule goes into (context for a custom compiler; this package's own does not read it). */
  table: string;
  /** The chain the rule goes into (likewise context only). */
  chain: string;
  /** nft rule text, e.g. `ip daddr 10.0.0.1 tcp dport 80 jump svc`. */
  rule: string;
  /** Named sets and maps of the table (existing and created earlier in the batch). */
  sets: ReadonlyMap<string, NetlinkSetInfo>;
  /** Allocates `__set%d` names and batch set ids for anonymous sets; the compiler calls it once per set. */
  allocateSet: AllocateAnonymousSet;
  /** The rule's comment (NftRule.comment): written as NFTA_RULE_USERDATA the way nft does. */
  comment?: string;
  /**
   * State shared by the rules of one batch (`newRuleBatch()`), to match nft: it puts the
   * protocol match a typeof map value needs (`meta l4proto tcp` for `: ip daddr . tcp dport`)
   * only before the batch's first rule that DNATs through that map. Without it every such rule
   * gets the match, as in a batch of its own.
   */
  batch?: RuleBatchState;
  /**
   * Interface name → index for `iif` / `oif` (nft looks names up in its own network namespace
   * when it compiles a rule; the client does it in the namespace it writes to). Without it a
   * rule naming an interface is an NftRuleSyntaxError; an index given as a number needs none.
   */
  resolveInterface?: (name: string) => number | undefined;
}

/** Per-batch compiler state (see CompileRuleInput.batch). */
export interface RuleBatchState {
  /** Maps whose typeof value dependency nft has already evaluated in this batch. */
  readonly mapValuesEvaluated: Set<string>;
}

/** What the compiler produces for one rule: the NEWRULE message's payloads and the sets to create first. */
export interface CompiledRule {
  /** NFTA_RULE_EXPRESSIONS payload: a run of NFTA_LIST_ELEM nests, each one expression. */
  expressions: Buffer;
  /** Anonymous sets the expressions reference, to be created earlier in the same batch. */
  anonymousSets: AnonymousSet[];
  /** NFTA_RULE_USERDATA (the comment TLV nft writes), when the rule has a comment. */
  userdata?: Buffer;
}

/**
 * A rule compiler: nft rule text → nf_tables expressions, as `nft` would encode them. The
 * package's own throws a NetfilterError with code `NFT_RULE_SYNTAX` for text it cannot read and
 * `NFT_RULE_SET` for a set it was not told about (or uses with the wrong shape).
 */
export type CompileRule = (input: CompileRuleInput) => CompiledRule;
