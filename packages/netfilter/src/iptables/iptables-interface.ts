import type { IptablesBackend } from './backend';
import type { IpFamily, Rule, Ruleset, Table, TableName } from './model';
import type { RestoreOptions, RestoreResult, RestoreStreamOptions } from './restore-options';

/**
 * A rule for the single-rule commands: the model, or the argument vector after the chain name
 * exactly as `iptables -A CHAIN …` takes it (`['-m', 'comment', '--comment', 'x', '-j', 'KUBE-X']`).
 */
export type RuleSpec = Rule | readonly string[];

/**
 * What code built on this package needs from iptables: IptablesClient and FakeIptables
 * (`@nodeagent/netfilter/testing`) both implement it, so a caller can be tested without root.
 */
export interface IptablesInterface {
  readonly family: IpFamily;
  /** The back end in use (nft or legacy). */
  backend(): Promise<IptablesBackend>;
  /** Apply a restore payload (or a model) with `--noflush` semantics, each table atomically. */
  restore(input: string | Ruleset | readonly Table[], options?: RestoreOptions): Promise<RestoreResult>;
  /** Like `restore`, with the payload produced while it is sent. */
  restoreStream(chunks: AsyncIterable<string>, options?: RestoreStreamOptions): Promise<RestoreResult>;
  /** The current rules, parsed into the model. */
  save(table?: TableName): Promise<Ruleset>;
  /** The current rules as iptables-save prints them. */
  saveText(table?: TableName): Promise<string>;
  /** Creates the user chain unless it exists. */
  ensureChain(table: TableName, chain: string): Promise<void>;
  /** Adds the rule (at the top or the end of `chain`) unless it is there; true when it was added. */
  ensureRule(
    position: 'prepend' | 'append',
    table: TableName,
    chain: string,
    rule: RuleSpec,
  ): Promise<boolean>;
  /** Deletes every copy of the rule from `chain`; true when there was one. A missing chain counts as none. */
  deleteRule(table: TableName, chain: string, rule: RuleSpec): Promise<boolean>;
  /** Flushes and deletes the user chain if it exists; true when it did. */
  deleteChain(table: TableName, chain: string): Promise<boolean>;
  /** True when `chain` exists in `table`. */
  chainExists(table: TableName, chain: string): Promise<boolean>;
}
