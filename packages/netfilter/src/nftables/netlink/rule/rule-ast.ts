// The parsed form of an nft rule: statements over expressions, before registers and bytes.

import type { Verdict } from '../data-types';

export type PayloadProto = 'ip' | 'ip6' | 'tcp' | 'udp' | 'sctp' | 'th';

/** Something a rule reads from the packet or its metadata. */
export type SelectorExpr =
  | { t: 'payload'; proto: PayloadProto; field: string }
  | { t: 'meta'; key: string }
  | { t: 'ct'; key: string; dir?: 'original' | 'reply'; proto?: 'ip' | 'ip6' }
  | { t: 'fib'; flags: string[]; result: string }
  | { t: 'numgen'; type: 'random' | 'inc'; modulus: number; offset?: number }
  | { t: 'concat'; parts: SelectorExpr[] }
  /** `mark and 0x4000`, `meta mark | 0x4000` */
  | { t: 'binop'; op: 'and' | 'or' | 'xor'; left: SelectorExpr; right: string };

/** A literal: one value text (`10.0.0.0/8`, `80-90`, `tcp`) or comma-joined flags (`established,related`). */
export interface ValueExpr {
  t: 'value';
  text: string;
  offset: number;
}

/** One element of an anonymous set or map: key parts (`.`-joined) and, for maps, the value parts. */
export interface SetElementAst {
  key: string[];
  value?: string[];
  offset: number;
}

export type RhsExpr =
  | ValueExpr
  | { t: 'setref'; name: string; offset: number }
  | { t: 'set'; elements: SetElementAst[]; offset: number };

export type RelOp = 'implicit' | 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';

/** A payload match the compiler derived (nft's merge of adjacent fields): load and compare raw bytes. */
export interface PayloadMatch {
  t: 'payload-match';
  base: 'network' | 'transport';
  offset: number;
  len: number;
  op: 'eq' | 'neq';
  data: Buffer;
  /** The selectors whose protocol dependencies it needs. */
  dependsOn: SelectorExpr[];
  /** Offset in the rule text, for errors. */
  at: number;
}

export type Statement =
  | PayloadMatch
  /** Where a merged-away match stood: its protocol dependency is still emitted there. */
  | { t: 'dependency-marker'; selectors: SelectorExpr[]; at: number }
  | { t: 'match'; left: SelectorExpr; op: RelOp; right: RhsExpr; offset: number }
  | { t: 'vmap'; key: SelectorExpr; map: RhsExpr; offset: number }
  | { t: 'verdict'; verdict: Verdict }
  | { t: 'counter'; packets: bigint; bytes: bigint }
  | { t: 'set'; target: SelectorExpr; value: SelectorExpr | ValueExpr; offset: number }
  | {
      t: 'nat';
      type: 'snat' | 'dnat';
      family?: 'ip' | 'ip6';
      /** `to <addr>[:<port>]` (ranges allowed) … */
      to?: string;
      /** … or `to <key> map <map>` whose value is address . port. */
      mapKey?: SelectorExpr;
      map?: RhsExpr;
      flags: string[];
      offset: number;
    }
  | { t: 'masquerade'; to?: string; flags: string[]; offset: number }
  | { t: 'reject'; with?: { kind: 'icmp' | 'icmpv6' | 'icmpx' | 'tcp'; code: string }; offset: number }
  | {
      t: 'dynset';
      op: 'add' | 'update' | 'delete';
      set: string;
      key: SelectorExpr;
      timeout?: string;
      offset: number;
    }
  | { t: 'log'; prefix?: string; level?: string; group?: number }
  | { t: 'limit'; rate: number; unit: string; burst?: number; over: boolean }
  | { t: 'notrack' };
