import { BUILTIN_CHAINS, isBuiltinChain } from './builtins';
import { ruleKey } from './canonical';
import type { Chain, ChainPolicy, IpFamily, Rule, Ruleset, Table, TableName } from './model';

/** How one chain differs between two rulesets: policy and rules. */
export interface ChainDiff {
  chain: string;
  policy?: { before: ChainPolicy | undefined; after: ChainPolicy | undefined };
  /** Rules only in `before` (by canonical form, counting duplicates). */
  removedRules: Rule[];
  /** Rules only in `after`. */
  addedRules: Rule[];
  /** Same rules, different order. */
  reordered: boolean;
}

/** How one table differs: chains added, removed and changed. */
export interface TableDiff {
  table: TableName;
  addedChains: string[];
  removedChains: string[];
  changedChains: ChainDiff[];
}

/** How two rulesets differ, table by table. */
export interface RulesetDiff {
  tables: TableDiff[];
}

/** Whether two rulesets were the same. */
export function isEmptyDiff(diff: RulesetDiff): boolean {
  return diff.tables.length === 0;
}

function multisetDifference(a: readonly Rule[], aKeys: string[], bKeys: string[]): Rule[] {
  const counts = new Map<string, number>();
  for (const key of bKeys) counts.set(key, (counts.get(key) ?? 0) + 1);
  const out: Rule[] = [];
  aKeys.forEach((key, i) => {
    const n = counts.get(key) ?? 0;
    if (n > 0) counts.set(key, n - 1);
    else out.push(a[i]!);
  });
  return out;
}

function diffChain(before: Chain, after: Chain, family: IpFamily): ChainDiff | undefined {
  const beforeKeys = before.rules.map((r) => ruleKey(r, family));
  const afterKeys = after.rules.map((r) => ruleKey(r, family));
  const samePolicy = (before.policy ?? 'ACCEPT') === (after.policy ?? 'ACCEPT');
  const sameRules = beforeKeys.length === afterKeys.length && beforeKeys.every((k, i) => k === afterKeys[i]);
  if (samePolicy && sameRules) return undefined;
  const removedRules = multisetDifference(before.rules, beforeKeys, afterKeys);
  const addedRules = multisetDifference(after.rules, afterKeys, beforeKeys);
  return {
    chain: after.name,
    ...(samePolicy ? {} : { policy: { before: before.policy, after: after.policy } }),
    removedRules,
    addedRules,
    reordered: !sameRules && removedRules.length === 0 && addedRules.length === 0,
  };
}

// The kernel always has every built-in chain of a table (empty, policy ACCEPT, unless set), so a
// model that leaves one out means exactly that.
function withBuiltins(name: TableName, table: Table | undefined): Map<string, Chain> {
  const chains = new Map<string, Chain>();
  for (const builtin of BUILTIN_CHAINS[name])
    chains.set(builtin, { name: builtin, policy: 'ACCEPT', rules: [] });
  for (const chain of table?.chains ?? []) chains.set(chain.name, chain);
  return chains;
}

function diffTable(
  name: TableName,
  before: Table | undefined,
  after: Table | undefined,
  family: IpFamily,
): TableDiff {
  const beforeChains = withBuiltins(name, before);
  const afterChains = withBuiltins(name, after);
  const diff: TableDiff = { table: name, addedChains: [], removedChains: [], changedChains: [] };
  for (const [chainName, chain] of afterChains) {
    const old = beforeChains.get(chainName);
    if (!old) diff.addedChains.push(chainName);
    else {
      const changed = diffChain(old, chain, family);
      if (changed) diff.changedChains.push(changed);
    }
  }
  for (const chainName of beforeChains.keys())
    if (!afterChains.has(chainName)) diff.removedChains.push(chainName);
  return diff;
}

/**
 * Semantic difference between two rulesets of one family: rules compare by the form the kernel
 * stores (so a rendered model and its iptables-save read-back are equal), chains by name.
 */
export function diffRulesets(before: Ruleset, after: Ruleset): RulesetDiff {
  const names = new Set<TableName>([...before.tables.map((t) => t.name), ...after.tables.map((t) => t.name)]);
  const tables: TableDiff[] = [];
  for (const name of names) {
    const diff = diffTable(
      name,
      before.tables.find((t) => t.name === name),
      after.tables.find((t) => t.name === name),
      after.family,
    );
    if (diff.addedChains.length + diff.removedChains.length + diff.changedChains.length > 0)
      tables.push(diff);
  }
  return { tables };
}

/**
 * The smallest restore input that turns `before` into `after` under `--noflush`: added and
 * changed chains rewritten whole, removed chains deleted. Unchanged chains are left out, so
 * validate it with `existingChains` naming them.
 */
export function restorePatch(before: Ruleset, after: Ruleset): Table[] {
  const diff = diffRulesets(before, after);
  return diff.tables.map((tableDiff) => {
    const table = after.tables.find((t) => t.name === tableDiff.table);
    const removed = tableDiff.removedChains.filter((c) => !isBuiltinChain(tableDiff.table, c));
    const rewrite = new Set([...tableDiff.addedChains, ...tableDiff.changedChains.map((c) => c.chain)]);
    return {
      name: tableDiff.table,
      chains: (table?.chains ?? []).filter((c) => rewrite.has(c.name)),
      ...(removed.length > 0 ? { deleteChains: removed } : {}),
    };
  });
}
