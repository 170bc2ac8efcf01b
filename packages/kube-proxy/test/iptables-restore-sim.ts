/** Targets that are not chains. */
const TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK']);

export class SimRestoreError extends Error {
  readonly code = 'SIM_RESTORE';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

type Tables = Map<string, Map<string, string[]>>;

/**
 * `iptables-restore --noflush` over in-memory tables, with the checks the kernel makes: a
 * declared chain is created or flushed, rules go only into existing chains, jump targets
 * must exist at COMMIT, and a deleted chain must be empty and unreferenced. Each table
 * section applies all or nothing, like one kernel transaction.
 */
export class RestoreSim {
  tables: Tables = new Map();

  apply(payload: string): void {
    let work: Map<string, string[]> | undefined;
    let table = '';
    const lines = payload.split('\n');
    lines.forEach((line, i) => {
      const n = i + 1;
      if (line === '') return;
      if (line.startsWith('*')) {
        table = line.slice(1);
        work = new Map(
          [...(this.tables.get(table) ?? new Map<string, string[]>())].map(([k, v]) => [k, [...v]]),
        );
      } else if (!work) {
        throw new SimRestoreError(n, 'outside a table');
      } else if (line.startsWith(':')) {
        work.set(line.slice(1).split(' ')[0]!, []);
      } else if (line.startsWith('-A ')) {
        const chain = line.split(' ')[1]!;
        const rules = work.get(chain);
        if (!rules) throw new SimRestoreError(n, `chain ${chain} does not exist`);
        rules.push(line);
      } else if (line.startsWith('-X ')) {
        const chain = line.slice(3);
        if (!work.has(chain)) throw new SimRestoreError(n, `no chain ${chain} to delete`);
        if (work.get(chain)!.length > 0) throw new SimRestoreError(n, `chain ${chain} not empty`);
        for (const rules of work.values())
          if (rules.some((r) => targetOf(r) === chain)) throw new SimRestoreError(n, `chain ${chain} in use`);
        work.delete(chain);
      } else if (line === 'COMMIT') {
        for (const rules of work.values()) {
          for (const r of rules) {
            const t = targetOf(r);
            if (t && !TARGETS.has(t) && !work.has(t)) throw new SimRestoreError(n, `unknown target ${t}`);
          }
        }
        this.tables.set(table, work);
        work = undefined;
      } else {
        throw new SimRestoreError(n, `unexpected line ${line}`);
      }
    });
  }

  chains(table: string): Set<string> {
    return new Set(this.tables.get(table)?.keys() ?? []);
  }

  /** Chain → rules of one table, restricted to `chains` if given. */
  dump(table: string, only?: (chain: string) => boolean): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [c, rules] of [...(this.tables.get(table) ?? [])].sort(([a], [b]) => a.localeCompare(b)))
      if (!only || only(c)) out[c] = rules;
    return out;
  }
}

function targetOf(rule: string): string | undefined {
  const at = rule.lastIndexOf(' -j ');
  return at < 0 ? undefined : rule.slice(at + 4).split(' ')[0];
}

/** The chains and rules a payload leaves in empty tables, per table, as RestoreSim.dump returns them. */
export function expectedTables(payload: string): Record<'filter' | 'nat', Record<string, string[]>> {
  const fresh = new RestoreSim();
  fresh.apply(payload);
  return { filter: fresh.dump('filter'), nat: fresh.dump('nat') };
}
