// The nf_tables expressions iptables-nft writes, appended to a rule's NFTA_RULE_EXPRESSIONS
// nest: each is an NFTA_LIST_ELEM holding NFTA_EXPR_NAME and NFTA_EXPR_DATA. Written straight
// into the batch's attribute writer (a full sync writes hundreds of thousands of rules).

import type { AttributeWriter } from '../../nftables/netlink/attributes';
import { NftaVerdict } from '../../nftables/netlink/constants';
import { NFTA_DATA_VALUE, NFTA_DATA_VERDICT } from '../../nftables/netlink/data-types';
import {
  ATTR,
  NFTA_EXPR_DATA,
  NFTA_EXPR_NAME,
  NFTA_LIST_ELEM,
} from '../../nftables/netlink/rule/netlink-constants';

/** NFT_REG_1: iptables-nft 1.8.9 loads every operand into the first 16-byte register. */
const REG_1 = 1;
/** NFT_REG_VERDICT. */
const REG_VERDICT = 0;
/** nft_compat's NFTA_MATCH_* / NFTA_TARGET_* (the same numbers for both). */
const XT_NAME = 1;
const XT_REV = 2;
const XT_INFO = 3;
/** NFTA_COUNTER_BYTES / NFTA_COUNTER_PACKETS. */
const COUNTER_BYTES = 1;
const COUNTER_PACKETS = 2;

/** enum nft_payload_bases as iptables uses them. */
export const PayloadBase = { network: 1, transport: 2 } as const;
/** enum nft_meta_keys iptables loads. */
export const MetaKey = { mark: 3, iifname: 6, oifname: 7, l4proto: 16 } as const;
/** enum nft_cmp_ops / nft_range_ops (eq/neq share 0/1). */
export const CmpOp = { eq: 0, neq: 1 } as const;

/** Appends expressions to the attribute writer of one rule. */
export class ExpressionWriter {
  constructor(private readonly w: AttributeWriter) {}

  private begin(name: string): [number, number] {
    const element = this.w.open(NFTA_LIST_ELEM);
    this.w.string(NFTA_EXPR_NAME, name);
    return [element, this.w.open(NFTA_EXPR_DATA)];
  }

  private end([element, data]: [number, number]): void {
    this.w.close(data, NFTA_EXPR_DATA);
    this.w.close(element, NFTA_LIST_ELEM);
  }

  private value(type: number, data: Uint8Array): void {
    const at = this.w.open(type);
    this.w.bytes(NFTA_DATA_VALUE, data);
    this.w.close(at, type);
  }

  payload(base: number, offset: number, length: number): void {
    const open = this.begin('payload');
    const a = ATTR.payload;
    this.w.u32(a.dreg, REG_1).u32(a.base, base).u32(a.offset, offset).u32(a.len, length);
    this.end(open);
  }

  meta(key: number): void {
    const open = this.begin('meta');
    this.w.u32(ATTR.meta.key, key).u32(ATTR.meta.dreg, REG_1);
    this.end(open);
  }

  cmp(op: number, data: Uint8Array): void {
    const open = this.begin('cmp');
    this.w.u32(ATTR.cmp.sreg, REG_1).u32(ATTR.cmp.op, op);
    this.value(ATTR.cmp.data, data);
    this.end(open);
  }

  range(op: number, from: Uint8Array, to: Uint8Array): void {
    const open = this.begin('range');
    this.w.u32(ATTR.range.sreg, REG_1).u32(ATTR.range.op, op);
    this.value(ATTR.range.from, from);
    this.value(ATTR.range.to, to);
    this.end(open);
  }

  /** `reg1 = (reg1 & mask) ^ 0`, as iptables masks prefixes and marks. */
  mask(mask: Uint8Array): void {
    const open = this.begin('bitwise');
    const a = ATTR.bitwise;
    this.w.u32(a.sreg, REG_1).u32(a.dreg, REG_1).u32(a.len, mask.length);
    this.value(a.mask, mask);
    this.value(a.xor, new Uint8Array(mask.length));
    this.end(open);
  }

  /** An xt match (nft_compat) with its struct. */
  match(name: string, revision: number, info: Uint8Array): void {
    this.compat('match', name, revision, info);
  }

  /** An xt target (nft_compat) with its struct. */
  target(name: string, revision: number, info: Uint8Array): void {
    this.compat('target', name, revision, info);
  }

  private compat(kind: string, name: string, revision: number, info: Uint8Array): void {
    const open = this.begin(kind);
    this.w.string(XT_NAME, name).u32(XT_REV, revision).bytes(XT_INFO, info);
    this.end(open);
  }

  /** Every iptables-nft rule counts before its target, from zero. */
  counter(): void {
    const open = this.begin('counter');
    this.w.u64(COUNTER_BYTES, 0).u64(COUNTER_PACKETS, 0);
    this.end(open);
  }

  /** An immediate verdict (accept, drop, return, or jump/goto `chain`). */
  verdict(code: number, chain?: string): void {
    const open = this.begin('immediate');
    this.w.u32(ATTR.immediate.dreg, REG_VERDICT);
    const data = this.w.open(ATTR.immediate.data);
    const verdict = this.w.open(NFTA_DATA_VERDICT);
    this.w.u32(NftaVerdict.CODE, code >>> 0);
    if (chain !== undefined) this.w.string(NftaVerdict.CHAIN, chain);
    this.w.close(verdict, NFTA_DATA_VERDICT);
    this.w.close(data, ATTR.immediate.data);
    this.end(open);
  }
}
