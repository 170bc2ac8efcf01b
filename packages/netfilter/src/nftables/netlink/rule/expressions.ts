// nf_tables expressions as the kernel runs them: the structured form between rule text and the
// NFTA_RULE_EXPRESSIONS bytes. Registers use the kernel's numbering: 0 is the verdict register,
// 1–4 the 16-byte registers, 8–23 the 4-byte ones (NFT_REG32_00…15).

import type { Verdict } from '../data-types';

export type PayloadBase = 'link' | 'network' | 'transport' | 'inner';
export type CmpOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';

export interface PayloadExpr {
  kind: 'payload';
  base: PayloadBase;
  offset: number;
  len: number;
  dreg: number;
}

export interface MetaExpr {
  kind: 'meta';
  key: string;
  /** Load into dreg, or (set) write sreg into the packet's meta key. */
  dreg?: number;
  sreg?: number;
}

export interface CtExpr {
  kind: 'ct';
  key: string;
  dreg?: number;
  sreg?: number;
  direction?: 'original' | 'reply';
}

export interface CmpExpr {
  kind: 'cmp';
  op: CmpOp;
  sreg: number;
  data: Buffer;
}

export interface RangeExpr {
  kind: 'range';
  op: 'eq' | 'neq';
  sreg: number;
  from: Buffer;
  to: Buffer;
}

export interface BitwiseExpr {
  kind: 'bitwise';
  sreg: number;
  dreg: number;
  len: number;
  mask: Buffer;
  xor: Buffer;
}

export interface ByteorderExpr {
  kind: 'byteorder';
  op: 'ntoh' | 'hton';
  sreg: number;
  dreg: number;
  len: number;
  size: number;
}

export interface LookupExpr {
  kind: 'lookup';
  sreg: number;
  set: string;
  setId?: number;
  dreg?: number;
  /** NFT_LOOKUP_F_INV (1) for `!=`. */
  flags?: number;
}

export interface ImmediateExpr {
  kind: 'immediate';
  dreg: number;
  data?: Buffer;
  verdict?: Verdict;
}

export interface NatExpr {
  kind: 'nat';
  type: 'snat' | 'dnat';
  family: 'ip' | 'ip6';
  regAddrMin?: number;
  regAddrMax?: number;
  regProtoMin?: number;
  regProtoMax?: number;
  flags?: number;
}

export interface MasqExpr {
  kind: 'masq';
  flags?: number;
  regProtoMin?: number;
  regProtoMax?: number;
}

export interface CounterExpr {
  kind: 'counter';
  packets: bigint;
  bytes: bigint;
}

export interface NumgenExpr {
  kind: 'numgen';
  dreg: number;
  type: 'inc' | 'random';
  modulus: number;
  offset?: number;
}

export interface FibExpr {
  kind: 'fib';
  dreg: number;
  /** NFTA_FIB_F_* bits. */
  flags: number;
  /** NFT_FIB_RESULT_*: 1 oif, 2 oifname, 3 type. */
  result: number;
}

export interface RejectExpr {
  kind: 'reject';
  /** NFT_REJECT_ICMP_UNREACH 0, TCP_RST 1, ICMPX_UNREACH 2. */
  type: number;
  code: number;
}

export interface DynsetExpr {
  kind: 'dynset';
  op: 'add' | 'update' | 'delete';
  sregKey: number;
  sregData?: number;
  set: string;
  setId?: number;
  /** Milliseconds. */
  timeout?: bigint;
}

export interface LogExpr {
  kind: 'log';
  prefix?: string;
  group?: number;
  level?: number;
  flags?: number;
}

export interface LimitExpr {
  kind: 'limit';
  rate: bigint;
  /** Seconds per unit. */
  unit: bigint;
  burst: number;
  /** NFT_LIMIT_PKTS 0, NFT_LIMIT_PKT_BYTES 1. */
  type: number;
  /** NFT_LIMIT_F_INV 1. */
  flags: number;
}

export interface NotrackExpr {
  kind: 'notrack';
}

export type NftExpression =
  | PayloadExpr
  | MetaExpr
  | CtExpr
  | CmpExpr
  | RangeExpr
  | BitwiseExpr
  | ByteorderExpr
  | LookupExpr
  | ImmediateExpr
  | NatExpr
  | MasqExpr
  | CounterExpr
  | NumgenExpr
  | FibExpr
  | RejectExpr
  | DynsetExpr
  | LogExpr
  | LimitExpr
  | NotrackExpr;
