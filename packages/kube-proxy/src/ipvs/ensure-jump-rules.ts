import { type JumpRule, renderRule } from '../shared/iptables-ruleset';
import type { IpvsIptables } from './ipvs-kernel';

/** The `-A CHAIN args` lines of each table in an iptables-save text, by table name. */
function appendLinesByTable(save: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let lines: Set<string> | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      lines = new Set();
      out.set(line.slice(1).trim(), lines);
    } else if (line.startsWith('-A ')) lines?.add(line);
  }
  return out;
}

/**
 * Makes sure each jump is in its built-in chain, inserting the missing ones at the top so that
 * the jumps end in `jumps` order, as upstream's EnsureRule(Prepend) per jump does; present ones
 * are left where they are. Upstream checks each with `iptables -C` (a process per jump: 9 of them
 * took 3.5 s of a full sync in the micro-VM); here one `iptables-save` tells which are missing
 * (it prints rules in the canonical form renderRule writes) and one `iptables-restore
 * --noflush` inserts them. Returns how many were inserted.
 */
export async function ensureJumpRules(
  iptables: Pick<IpvsIptables, 'saveTable' | 'restore'>,
  jumps: readonly JumpRule[],
): Promise<number> {
  const present = appendLinesByTable(await iptables.saveTable());
  const missing = jumps.filter((j) => !present.get(j.table)?.has(renderRule(['-A', j.chain, ...j.args])));
  if (missing.length === 0) return 0;
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const rules = missing.filter((j) => j.table === table);
    if (rules.length === 0) continue;
    out.push(`*${table}`);
    // Each insert goes to the top: the last of the list first.
    for (const j of rules.reverse()) out.push(renderRule(['-I', j.chain, ...j.args]));
    out.push('COMMIT');
  }
  await iptables.restore(`${out.join('\n')}\n`);
  return missing.length;
}
