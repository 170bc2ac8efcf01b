// The nf_tables expressions iptables-nft writes, appended to a rule's NFTA_RULE_EXPRESSIONS
// nest: each is an NFTA_LIST_ELEM holding NFTA_EXPR_NAME and NFTA_EXPR_DATA. Written straight
// into the batch's attribute writer (a full sync writes hundreds of thousands of rules).

import { AttributeWriter } from '../../nftables/netlink/attributes';
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

/** Attributes that never change, encoded once: `build` writes them into a fresh writer. */
function encodedOnce(build: (w: AttributeWriter) => void): Buffer {
  const w = new AttributeWriter(64);
  build(w);
  return Buffer.from(w.toBuffer());
}

/** NFTA_EXPR_NAME of each expression name, encoded once (every rule writes several). */
const EXPRESSION_NAMES = new Map<string, Buffer>();
function expressionName(name: string): Buffer {
  let bytes = EXPRESSION_NAMES.get(name);
  if (!bytes) {
    bytes = encodedOnce((w) => w.string(NFTA_EXPR_NAME, name));
    EXPRESSION_NAMES.set(name, bytes);
  }
  return bytes;
}

/** An xt extension's NFTA_MATCH_NAME + NFTA_MATCH_REV, encoded once per name and revision. */
const XT_HEADS = new Map<string, Buffer[]>();
function xtHead(name: string, revision: number): Buffer {
  let byRevision = XT_HEADS.get(name);
  if (!byRevision) {
    byRevision = [];
    XT_HEADS.set(name, byRevision);
  }
  let bytes = byRevision[revision];
  if (!bytes) {
    bytes = encodedOnce((w) => w.string(XT_NAME, name).u32(XT_REV, revision));
    byRevision[revision] = bytes;
  }
  return bytes;
}

/**
 * Appends expressions to the attribute writer of one rule. Expressions never nest, so the open
 * element and data attributes are fields, not a tuple per expression.
 */
export class ExpressionWriter {
  private element = 0;
  private data = 0;

  constructor(private readonly w: AttributeWriter) {}

  private begin(name: string): void {
    this.element = this.w.open(NFTA_LIST_ELEM);
    this.w.raw(expressionName(name));
    this.data = this.w.open(NFTA_EXPR_DATA);
  }

  private end(): void {
    this.w.close(this.data, NFTA_EXPR_DATA);
    this.w.close(this.element, NFTA_LIST_ELEM);
  }

  private value(type: number, data: Uint8Array): void {
    const at = this.w.open(type);
    this.w.bytes(NFTA_DATA_VALUE, data);
    this.w.close(at, type);
  }

  payload(base: number, offset: number, length: number): void {
    this.begin('payload');
    const a = ATTR.payload;
    this.w.u32(a.dreg, REG_1).u32(a.base, base).u32(a.offset, offset).u32(a.len, length);
    this.end();
  }

  meta(key: number): void {
    this.begin('meta');
    this.w.u32(ATTR.meta.key, key).u32(ATTR.meta.dreg, REG_1);
    this.end();
  }

  cmp(op: number, data: Uint8Array): void {
    this.begin('cmp');
    this.w.u32(ATTR.cmp.sreg, REG_1).u32(ATTR.cmp.op, op);
    this.value(ATTR.cmp.data, data);
    this.end();
  }

  range(op: number, from: Uint8Array, to: Uint8Array): void {
    this.begin('range');
    this.w.u32(ATTR.range.sreg, REG_1).u32(ATTR.range.op, op);
    this.value(ATTR.range.from, from);
    this.value(ATTR.range.to, to);
    this.end();
  }

  /** `reg1 = (reg1 & mask) ^ 0`, as iptables masks prefixes and marks. */
  mask(mask: Uint8Array): void {
    this.begin('bitwise');
    const a = ATTR.bitwise;
    this.w.u32(a.sreg, REG_1).u32(a.dreg, REG_1).u32(a.len, mask.length);
    this.value(a.mask, mask);
    this.value(a.xor, new Uint8Array(mask.length));
    this.end();
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
    this.begin(kind);
    this.w.raw(xtHead(name, revision)).bytes(XT_INFO, info);
    this.end();
  }

  /**
   * An xt match or target whose `length`-byte struct the caller writes at the returned offset
   * of `bytes` (zeroed here): the per-endpoint structs (comments, DNAT) need no buffer of their own.
   */
  compatInPlace(kind: 'match' | 'target', name: string, revision: number, length: number): number {
    this.begin(kind);
    this.w.raw(xtHead(name, revision));
    const at = this.w.reserveAttribute(XT_INFO, length);
    this.w.bytesView.fill(0, at, at + length);
    this.end();
    return at;
  }

  /** The buffer being written (valid until the next expression). */
  get bytes(): Buffer {
    return this.w.bytesView;
  }

  /** Every iptables-nft rule counts before its target, from zero. */
  counter(): void {
    this.begin('counter');
    this.w.u64(COUNTER_BYTES, 0).u64(COUNTER_PACKETS, 0);
    this.end();
  }

  /** An immediate verdict (accept, drop, return, or jump/goto `chain`). */
  verdict(code: number, chain?: string): void {
    this.begin('immediate');
    this.w.u32(ATTR.immediate.dreg, REG_VERDICT);
    const data = this.w.open(ATTR.immediate.data);
    const verdict = this.w.open(NFTA_DATA_VERDICT);
    this.w.u32(NftaVerdict.CODE, code >>> 0);
    if (chain !== undefined) this.w.string(NftaVerdict.CHAIN, chain);
    this.w.close(verdict, NFTA_DATA_VERDICT);
    this.w.close(data, ATTR.immediate.data);
    this.end();
  }
}
