import type { IptablesBackend } from './backend';
import type { IpFamily, Rule, Ruleset, Table, TableName } from './model';
import type { RestoreOptions, RestoreResult, RestoreStreamOptions } from './restore-options';

/**
 * What code built on this package needs from iptables: IptablesClient and FakeIptables
 * (`@nodeagent/netfilter/testing`) both implement it, so a caller can be tested without root.
 */
export interface IptablesInterface {
  readonly family: IpFamily;
  backend(): Promise<IptablesBackend>;
  /** Apply a restore payload (or a model) with `--noflush` semantics, each table atomically. */
  restore(input: string | Ruleset | readonly Table[], options?: RestoreOptions): Promise<RestoreResult>;
  /** Like `restore`, with the payload produced while it is sent. */
  restoreStream(chunks: AsyncIterable<string>, options?: RestoreStreamOptions): Promise<RestoreResult>;
  save(table?: TableName): Promise<Ruleset>;
  saveText(table?: TableName): Promise<string>;
  ensureChain(table: TableName, chain: string): Promise<void>;
  ensureRule(position: 'prepend' | 'append', table: TableName, chain: string, rule: Rule): Promise<boolean>;
}
