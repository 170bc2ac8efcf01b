import type { IptablesExecutor, IptablesTableName } from '../src/index';

/**
 * An in-memory IptablesExecutor: tracks which chains exist per table from restore payloads
 * and ensure* calls, records every payload, and can be told to fail the next restore.
 */
export class FakeIptables implements IptablesExecutor {
  readonly chains: Record<IptablesTableName, Set<string>> = {
    filter: new Set(),
    nat: new Set(),
    mangle: new Set(),
  };
  readonly jumpRules: string[] = [];
  readonly payloads: string[] = [];
  failNextRestore = 0;

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
    }
  }
  async listChains(table: IptablesTableName): Promise<Set<string>> {
    return new Set(this.chains[table]);
  }
  async ensureChain(table: IptablesTableName, chain: string): Promise<void> {
    this.chains[table].add(chain);
  }
  async ensureRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    const r = `${table} ${chain} ${args.join(' ')}`;
    if (!this.jumpRules.includes(r)) this.jumpRules.push(r);
  }
  async deleteRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    const r = `${table} ${chain} ${args.join(' ')}`;
    const i = this.jumpRules.indexOf(r);
    if (i >= 0) this.jumpRules.splice(i, 1);
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
    this.jumpRules.length = 0;
  }
}
