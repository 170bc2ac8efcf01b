import { splitTokens } from '@nodeagent/netfilter';
import type { IptablesExecutor, IptablesTableName } from '../src/index';
import { renderRule } from '../src/index';

interface JumpEntry {
  table: IptablesTableName;
  chain: string;
  args: readonly string[];
}

/**
 * An in-memory IptablesExecutor: tracks which chains exist per table and the rules in
 * built-in chains (from `-I` lines of restore payloads and ensure* calls), records every
 * payload, and can be told to fail the next restore.
 */
export class FakeIptables implements IptablesExecutor {
  readonly chains: Record<IptablesTableName, Set<string>> = {
    filter: new Set(),
    nat: new Set(),
    mangle: new Set(),
  };
  private readonly jumps: JumpEntry[] = [];
  readonly payloads: string[] = [];
  failNextRestore = 0;

  /** Rules in built-in chains as "table CHAIN args…" (args joined by spaces, unquoted). */
  get jumpRules(): string[] {
    return this.jumps.map((j) => `${j.table} ${j.chain} ${j.args.join(' ')}`);
  }

  async restore(payload: string): Promise<void> {
    this.payloads.push(payload);
    if (this.failNextRestore > 0) {
      this.failNextRestore--;
      throw new Error('iptables-restore: line 7 failed');
    }
    let table: IptablesTableName = 'filter';
    for (const line of payload.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1) as IptablesTableName;
      else if (line.startsWith(':')) this.chains[table].add(line.slice(1).split(' ')[0]!);
      else if (line.startsWith('-X ')) this.chains[table].delete(line.slice(3));
      else if (line.startsWith('-I ')) {
        const [, chain, ...args] = splitTokens(line) ?? [];
        this.jumps.unshift({ table, chain: chain!, args });
      }
    }
  }
  async listChains(table: IptablesTableName): Promise<Set<string>> {
    return new Set(this.chains[table]);
  }
  async saveTable(table: IptablesTableName): Promise<string> {
    const lines = [`*${table}`, ...[...this.chains[table]].map((c) => `:${c} - [0:0]`)];
    for (const j of this.jumps) if (j.table === table) lines.push(renderRule(['-A', j.chain, ...j.args]));
    return `${[...lines, 'COMMIT'].join('\n')}\n`;
  }
  async ensureChain(table: IptablesTableName, chain: string): Promise<void> {
    this.chains[table].add(chain);
  }
  async ensureRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    if (!this.findJump(table, chain, args)) this.jumps.push({ table, chain, args });
  }
  async deleteRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    const j = this.findJump(table, chain, args);
    if (j) this.jumps.splice(this.jumps.indexOf(j), 1);
  }
  async deleteChain(table: IptablesTableName, chain: string): Promise<void> {
    this.chains[table].delete(chain);
  }
  async chainExists(table: IptablesTableName, chain: string): Promise<boolean> {
    return this.chains[table].has(chain);
  }
  /** Simulates someone flushing everything (iptables -F / -X) behind our back. */
  wipe(): void {
    for (const t of Object.values(this.chains)) t.clear();
    this.jumps.length = 0;
  }

  private findJump(table: IptablesTableName, chain: string, args: readonly string[]): JumpEntry | undefined {
    const key = args.join('\u0000');
    return this.jumps.find((j) => j.table === table && j.chain === chain && j.args.join('\u0000') === key);
  }
}
