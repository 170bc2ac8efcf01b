// An iptables restore payload (the parsed model) as one nf_tables batch that leaves the kernel
// as `iptables-nft-restore --noflush` would: each table created if missing; each declared user
// chain created if missing, else flushed; each declared built-in chain created as iptables-nft's
// base chain with its policy (not flushed, as iptables-restore --noflush leaves built-ins); the
// rules appended in order; `-X` chains flushed and deleted last, once nothing jumps to them.

import { AttributeWriter } from '../../nftables/netlink/attributes';
import { BatchBuffer } from '../../nftables/netlink/batch-buffer';
import {
  NftaChain,
  NftaHook,
  NftaRule,
  NftaTable,
  NftMsg,
  NLM_F_APPEND,
  NLM_F_CREATE,
} from '../../nftables/netlink/constants';
import { nftMessageType } from '../../nftables/netlink/message';
import { isBuiltinChain } from '../builtins';
import type { ChainPolicy, IpFamily, Rule, Ruleset, TableName } from '../model';
import { BASE_CHAINS } from './base-chains';
import { IptablesNftUnsupportedError } from './errors';
import { RulePlace } from './place';
import { RuleExpressionEncoder } from './rule-encoder';

/** NFPROTO_IPV4 / NFPROTO_IPV6. */
const NFPROTO: Readonly<Record<IpFamily, number>> = { ipv4: 2, ipv6: 10 };
/** NFTA_RULE_COMPAT and its NFTA_RULE_COMPAT_PROTO / _FLAGS; NFT_RULE_COMPAT_F_INV. */
const NFTA_RULE_COMPAT = 5;
const COMPAT_PROTO = 1;
const COMPAT_FLAGS = 2;
const COMPAT_F_INV = 1 << 1;
/** NFTA_COUNTER_BYTES / NFTA_COUNTER_PACKETS in NFTA_CHAIN_COUNTERS. */
const COUNTER_BYTES = 1;
const COUNTER_PACKETS = 2;
/** NF_DROP / NF_ACCEPT as chain policies. */
const POLICY = { DROP: 0, ACCEPT: 1 } as const;

/** What one payload's batch holds. */
export interface IptablesNftBatchStats {
  tables: number;
  chains: number;
  rules: number;
  bytes: number;
}

/** A table as the batch opens it: its declared chains and the chains it deletes. */
export interface TableHead {
  name: TableName;
  chains: readonly { name: string; policy?: ChainPolicy }[];
  deleteChains?: readonly string[];
}

/**
 * Encodes tables into a batch: `beginTable` (the table, its chains declared and flushed), its
 * rules one `rule` call at a time, in any order of chains (each chain's in order), then
 * `endTable` (the `-X` deletions). The model's rulesets and restore text read line by line
 * (restore-text-batch.ts) go through the same calls.
 */
/** Chains per step of RulesetEncoder.beginTableSteps: a few ms of encoding. */
const CHAINS_PER_STEP = 4096;

export class RulesetEncoder {
  private readonly w = new AttributeWriter(4096);
  private readonly expressions: RuleExpressionEncoder;
  private readonly place = new RulePlace();
  private readonly familyNumber: number;
  private index = 0;
  private table: TableHead | undefined;
  private prefix = '';
  /** The chain of the last rule: its operation text, encoded names and rule count. */
  private chain = '';
  private operation = '';
  private names: Buffer = Buffer.alloc(0);
  /** Rules so far per chain of this table (for the place of a rule in errors). */
  private readonly ruleCounts = new Map<string, number>();
  readonly stats: IptablesNftBatchStats = { tables: 0, chains: 0, rules: 0, bytes: 0 };

  constructor(
    private readonly batch: BatchBuffer,
    private readonly family: IpFamily,
  ) {
    this.familyNumber = NFPROTO[family];
    this.expressions = new RuleExpressionEncoder(this.w, family);
  }

  private append(msg: number, flags: number, operation: string): void {
    this.batch.append(
      nftMessageType(msg),
      flags,
      this.familyNumber,
      this.w.toBuffer(),
      operation,
      this.index++,
    );
    this.w.truncate(0);
  }

  /** The table, its chains declared, the user chains flushed and the deleted ones too. */
  beginTable(table: TableHead): void {
    for (const _ of this.beginTableSteps(table));
  }

  /**
   * beginTable in steps of `every` chains: a full sync's nat table declares and flushes 255,000
   * chains, a long task of the main thread in one go.
   */
  *beginTableSteps(table: TableHead, every = CHAINS_PER_STEP): Generator<void> {
    this.table = table;
    this.prefix = `${this.family === 'ipv6' ? 'ip6' : 'ip'} ${table.name}`;
    this.chain = '';
    this.ruleCounts.clear();
    const prefix = this.prefix;
    this.w.string(NftaTable.NAME, table.name);
    this.append(NftMsg.NEWTABLE, NLM_F_CREATE, `add table ${prefix}`);
    this.stats.tables++;
    let n = 0;
    for (const chain of table.chains) {
      this.declareChain(table, chain);
      if (++n % every === 0) yield;
    }
    for (const chain of table.chains) {
      if (++n % every === 0) yield;
      if (isBuiltinChain(table.name, chain.name)) continue;
      this.w.string(NftaRule.TABLE, table.name).string(NftaRule.CHAIN, chain.name);
      this.append(NftMsg.DELRULE, 0, `flush chain ${prefix} ${chain.name}`);
    }
    // Chains to delete are flushed with the declared ones, before any is deleted: the tool flushes
    // a chain at its `:` line, so a stale chain jumping to another stale chain listed before it
    // (`-X KUBE-SEP-…` ahead of `-X KUBE-SVC-…`) holds no reference by then (else EBUSY).
    for (const name of table.deleteChains ?? []) {
      this.w.string(NftaRule.TABLE, table.name).string(NftaRule.CHAIN, name);
      this.append(NftMsg.DELRULE, 0, `flush chain ${prefix} ${name}`);
    }
  }

  /**
   * Appends `rule` to `chain` of the open table. Rules of one chain share one operation text
   * (the rule's number is its place among that chain's messages, see the writer's operationOf)
   * and one copy of the table and chain attributes.
   */
  rule(chain: string, rule: Rule): void {
    const table = this.table as TableHead;
    const place = this.place;
    if (chain !== this.chain) {
      if (this.chain !== '') this.ruleCounts.set(this.chain, place.rule);
      this.chain = chain;
      this.operation = `add rule ${this.prefix} ${chain}`;
      this.names = Buffer.from(
        new AttributeWriter(64).string(NftaRule.TABLE, table.name).string(NftaRule.CHAIN, chain).toBuffer(),
      );
      place.table = table.name;
      place.chain = chain;
      place.rule = this.ruleCounts.get(chain) ?? 0;
    }
    place.rule++;
    this.w.raw(this.names);
    const list = this.w.open(NftaRule.EXPRESSIONS);
    const protocol = this.expressions.write(rule, place);
    this.w.close(list, NftaRule.EXPRESSIONS);
    if (protocol) {
      const compat = this.w.open(NFTA_RULE_COMPAT);
      this.w.u32(COMPAT_PROTO, protocol.number).u32(COMPAT_FLAGS, protocol.negate ? COMPAT_F_INV : 0);
      this.w.close(compat, NFTA_RULE_COMPAT);
    }
    this.append(NftMsg.NEWRULE, NLM_F_CREATE | NLM_F_APPEND, this.operation);
    this.stats.rules++;
  }

  /** The open table's `-X` chains deleted, once their rules and the jumps to them are gone. */
  endTable(): void {
    const table = this.table as TableHead;
    for (const name of table.deleteChains ?? []) {
      this.w.string(NftaChain.TABLE, table.name).string(NftaChain.NAME, name);
      this.append(NftMsg.DELCHAIN, 0, `delete chain ${this.prefix} ${name}`);
    }
    this.table = undefined;
  }

  private declareChain(table: TableHead, chain: TableHead['chains'][number]): void {
    this.w.string(NftaChain.TABLE, table.name).string(NftaChain.NAME, chain.name);
    const base = BASE_CHAINS[table.name][chain.name];
    if (base) {
      // A built-in chain is written only where the payload declares it (`:INPUT ACCEPT`): its
      // policy is then known. Rules for an undeclared one would need the kernel's current policy.
      if (!chain.policy)
        throw new IptablesNftUnsupportedError(
          `${table.name}/${chain.name}`,
          'a built-in chain without its policy line',
        );
      const hook = this.w.open(NftaChain.HOOK);
      this.w.u32(NftaHook.HOOKNUM, base.hook).u32(NftaHook.PRIORITY, base.priority >>> 0);
      this.w.close(hook, NftaChain.HOOK);
      this.w.u32(NftaChain.POLICY, POLICY[chain.policy]).string(NftaChain.TYPE, base.type);
      // The declaration's `[0:0]`: iptables-nft sets a declared built-in chain's counters.
      const counters = this.w.open(NftaChain.COUNTERS);
      this.w.u64(COUNTER_BYTES, 0).u64(COUNTER_PACKETS, 0);
      this.w.close(counters, NftaChain.COUNTERS);
    }
    this.append(NftMsg.NEWCHAIN, NLM_F_CREATE, `add chain ${this.prefix} ${chain.name}`);
    this.stats.chains++;
  }
}

/**
 * `ruleset` as one batch of nf_tables messages (into `batch`, or a new buffer). Throws
 * IptablesNftUnsupportedError for a rule iptables-nft would write differently than this encoder
 * can, before anything is sent.
 */
export function encodeIptablesNftBatch(
  ruleset: Ruleset,
  batch: BatchBuffer = new BatchBuffer(),
): { batch: BatchBuffer; stats: IptablesNftBatchStats } {
  const encoder = new RulesetEncoder(batch, ruleset.family);
  for (const table of ruleset.tables) {
    encoder.beginTable(table);
    for (const chain of table.chains) for (const rule of chain.rules) encoder.rule(chain.name, rule);
    encoder.endTable();
  }
  encoder.stats.bytes = batch.byteLength;
  return { batch, stats: encoder.stats };
}
