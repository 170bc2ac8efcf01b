import { isBuiltinChain } from './builtins';
import type { Ruleset, Table } from './model';
import { RestoreWriter } from './restore-writer';

/** How a ruleset is rendered as iptables-restore input. */
export interface RenderRestoreOptions {
  /**
   * Emit `-F CHAIN` for built-in chains in the model. Under `--noflush`, declaring a built-in
   * chain does not flush it, so without this its rules would be appended on every apply.
   */
  flushBuiltinChains?: boolean;
}

/** Render one table as a `*table … COMMIT` section. */
export function renderTable(writer: RestoreWriter, table: Table, options: RenderRestoreOptions = {}): void {
  writer.table(table.name);
  // All chains first: a rule may jump to a chain declared after it in the model.
  for (const chain of table.chains) {
    writer.chain(chain.name, isBuiltinChain(table.name, chain.name) ? (chain.policy ?? 'ACCEPT') : undefined);
  }
  // A chain must be empty to be deleted: declaring it flushes (or creates) it, like upstream.
  for (const name of table.deleteChains ?? []) writer.chain(name);
  if (options.flushBuiltinChains) {
    for (const chain of table.chains)
      if (isBuiltinChain(table.name, chain.name)) writer.flushChain(chain.name);
  }
  for (const chain of table.chains) {
    for (const rule of chain.rules) writer.rule(chain.name, rule);
  }
  // Deletions last, once nothing rewritten above still jumps to them.
  for (const name of table.deleteChains ?? []) writer.deleteChain(name);
  writer.commit();
}

/** The iptables-restore payload for a ruleset (one section per table). */
export function renderRestore(
  ruleset: Ruleset | readonly Table[],
  options: RenderRestoreOptions = {},
): string {
  const tables = Array.isArray(ruleset) ? (ruleset as readonly Table[]) : (ruleset as Ruleset).tables;
  const writer = new RestoreWriter();
  for (const table of tables) renderTable(writer, table, options);
  return writer.toString();
}
