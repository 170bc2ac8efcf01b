import { splitTokens } from '@nodeagent/netfilter/iptables';
import type { IptablesExecutor, IptablesTableName } from './iptables-executor';
import type { JumpRule } from './iptables-ruleset';

/** A restore payload that flushes every chain first, then deletes them (they jump to each other). */
export function flushAndDeleteChainsPayload(table: string, chains: readonly string[]): string {
  return `${cleanupSection(table, [], chains)}\n`;
}

/** What a cleanup removes from one family's tables. */
export interface CleanupSpec {
  /**
   * Rules to delete wherever they are, compared token by token with the kernel's (upstream's
   * DeleteRule list: its `-C`/`-D` pairs, decided here from one iptables-save instead).
   */
  jumps: readonly JumpRule[];
  /** The chains of `table` to flush and delete, among those that exist. */
  chainsOf: (table: IptablesTableName, existing: Set<string>) => string[];
  /** nat chains every rule jumping into which is deleted, whatever its matches (userspace portals). */
  natJumpTargets?: readonly string[];
}

/** One table's restore section and what it removes. */
export interface CleanupSection {
  table: IptablesTableName;
  /** `*table`, the `-D`s, the chains declared (flushed) then `-X`ed, `COMMIT`. */
  payload: string;
  deletedJumps: number;
  deletedChains: number;
}

const TABLES: readonly IptablesTableName[] = ['filter', 'nat', 'mangle'];

/**
 * Decides a cleanup from one `iptables-save` of every table: per table with anything to remove,
 * a section that deletes the matching rules as the kernel printed them (so `-D` finds them),
 * then flushes and deletes the chains. Tables with nothing to remove get no section.
 */
export function planCleanup(save: string, spec: CleanupSpec): CleanupSection[] {
  const sections: CleanupSection[] = [];
  for (const [table, parsed] of parseSaveTables(save)) {
    if (!TABLES.includes(table as IptablesTableName)) continue;
    const name = table as IptablesTableName;
    const chains = spec.chainsOf(name, new Set(parsed.chains));
    const doomed = new Set(chains);
    const deletes = parsed.rules
      .filter((r) => !doomed.has(r.chain) && isOurs(name, r, spec))
      .map((r) => `-D ${r.chain} ${r.text}`);
    if (deletes.length === 0 && chains.length === 0) continue;
    sections.push({
      table: name,
      payload: `${cleanupSection(name, deletes, chains)}\n`,
      deletedJumps: deletes.length,
      deletedChains: chains.length,
    });
  }
  return sections;
}

/**
 * Runs a cleanup on one family: one `iptables-save` (every table), then one
 * `iptables-restore --noflush` per table with something to remove. As upstream, a table whose
 * restore fails does not stop the others; the first failure is thrown once all were tried.
 */
export async function cleanupChains(
  exec: Pick<IptablesExecutor, 'saveTable' | 'restore'>,
  spec: CleanupSpec,
): Promise<{ deletedChains: number; deletedJumps: number }> {
  let deletedChains = 0;
  let deletedJumps = 0;
  const failures: unknown[] = [];
  for (const section of planCleanup(await exec.saveTable(), spec)) {
    try {
      await exec.restore(section.payload);
      deletedChains += section.deletedChains;
      deletedJumps += section.deletedJumps;
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
  return { deletedChains, deletedJumps };
}

function cleanupSection(table: string, deletes: readonly string[], chains: readonly string[]): string {
  // Declaring a chain in a --noflush payload flushes it, so each -X finds it empty and unreferenced.
  return [
    `*${table}`,
    ...deletes,
    ...chains.map((c) => `:${c} - [0:0]`),
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
  ].join('\n');
}

interface SavedRule {
  chain: string;
  /** The rule after `-A CHAIN `, exactly as iptables-save printed it. */
  text: string;
  tokens: readonly string[];
}

function isOurs(table: IptablesTableName, rule: SavedRule, spec: CleanupSpec): boolean {
  if (table === 'nat' && spec.natJumpTargets?.includes(jumpTarget(rule.tokens) ?? '')) return true;
  return spec.jumps.some(
    (j) =>
      j.table === table &&
      j.chain === rule.chain &&
      j.args.length === rule.tokens.length &&
      j.args.every((a, i) => a === rule.tokens[i]),
  );
}

function jumpTarget(tokens: readonly string[]): string | undefined {
  const at = tokens.lastIndexOf('-j');
  return at < 0 ? undefined : tokens[at + 1];
}

/** iptables-save text per table: the chains declared and the `-A` rules. */
function parseSaveTables(save: string): Map<string, { chains: string[]; rules: SavedRule[] }> {
  const tables = new Map<string, { chains: string[]; rules: SavedRule[] }>();
  let current: { chains: string[]; rules: SavedRule[] } | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      current = { chains: [], rules: [] };
      tables.set(line.slice(1).trim(), current);
    } else if (line.startsWith(':')) current?.chains.push(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) {
      const space = line.indexOf(' ', 3);
      if (space < 0) continue;
      const text = line.slice(space + 1);
      current?.rules.push({ chain: line.slice(3, space), text, tokens: splitTokens(text) ?? [] });
    }
  }
  return tables;
}
