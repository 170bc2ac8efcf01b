import { quoteToken, splitTokens } from '@nodeagent/netfilter/iptables';
import { FakeIptables as FakeKernelIptables } from '@nodeagent/netfilter/testing';
import type { IptablesExecutor, IptablesTableName } from './iptables-executor';

const TABLES: readonly IptablesTableName[] = ['filter', 'nat', 'mangle'];

interface SavedTable {
  /** Every chain, in save order, with its policy (`-` for a user chain). */
  chains: Map<string, string>;
  /** `-A` lines as [chain, ...args], args unquoted. */
  rules: string[][];
}

/**
 * An in-memory IptablesExecutor. The iptables-restore emulation is @nodeagent/netfilter's
 * FakeIptables (`kernel`: `--noflush` semantics, each table all-or-nothing, `:` lines flush,
 * references checked, `dump()` in iptables-save form); this class only maps the executor's calls
 * onto it and adds what kube-proxy's tests steer: recorded payloads, injected restore/save
 * failures and a view of the user chains and the rules in built-in chains.
 */
export class FakeIptables implements IptablesExecutor {
  /** The emulated kernel state; its `dump()` prints every table as iptables-save does. */
  readonly kernel = new FakeKernelIptables('ipv4');
  /** Every payload given to restore/restoreStream (with the tail), in order, failed ones too. */
  readonly payloads: string[] = [];
  /** The next this-many restores fail before reaching the kernel (nothing applied). */
  failNextRestore = 0;
  /** How many restores came through restoreStream, and the chunk count of each. */
  readonly streamedChunks: number[] = [];
  /** Make the next iptables-save fail (e.g. to break a full sync's kernel read). */
  failNextSave = 0;

  /** User chains per table (built-in chains left out), as they are now. */
  get chains(): Record<IptablesTableName, Set<string>> {
    const out = {} as Record<IptablesTableName, Set<string>>;
    for (const t of TABLES) {
      const chains = this.saved(t).chains;
      out[t] = new Set([...chains].filter(([, policy]) => policy === '-').map(([name]) => name));
    }
    return out;
  }

  /** Rules in built-in chains as "table CHAIN args…" (args joined by spaces, unquoted). */
  get jumpRules(): string[] {
    const out: string[] = [];
    for (const t of TABLES) {
      const saved = this.saved(t);
      for (const [chain, ...args] of saved.rules)
        if (saved.chains.get(chain as string) !== '-') out.push(`${t} ${chain} ${args.join(' ')}`);
    }
    return out;
  }

  /** The whole state in iptables-save form (tables with nothing in them left out). */
  dump(table?: IptablesTableName): string {
    return this.kernel.dump(table);
  }

  async restore(payload: string): Promise<void> {
    this.payloads.push(payload);
    if (this.failNextRestore > 0) {
      this.failNextRestore--;
      throw new Error('iptables-restore: line 7 failed');
    }
    // validate: false, as the real executor passes: the kernel's own line checks still apply.
    await this.kernel.restore(payload, { validate: false });
  }

  /**
   * Like iptables-restore fed by a pipe: reads every chunk and applies once the input ends. A
   * producer that throws kills the tool: the kernel keeps the sections whose COMMIT it read.
   */
  async restoreStream(chunks: AsyncIterable<string>, _expected: unknown, tail?: () => string): Promise<void> {
    const read: string[] = [];
    try {
      for await (const c of chunks) read.push(c);
    } catch (cause) {
      await this.kernel.restoreStream(replayThenThrow(read, cause));
      throw cause; // not reached: the kernel rejects with InputAbortedError
    }
    this.streamedChunks.push(read.length);
    // Through `restore`, so a test's override of it (a refused match, say) sees streamed syncs too.
    await this.restore(read.join('') + (tail?.() ?? ''));
  }

  async listChains(table: IptablesTableName): Promise<Set<string>> {
    return new Set(this.saved(table).chains.keys());
  }

  async saveTable(table?: IptablesTableName): Promise<string> {
    if (this.failNextSave > 0) {
      this.failNextSave--;
      throw new Error('iptables-save: failed');
    }
    return this.kernel.saveText(table);
  }

  async ensureChain(table: IptablesTableName, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) await this.command(table, ['-N', chain]);
  }

  async ensureRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    if (!this.hasRule(table, chain, args)) await this.command(table, ['-I', chain, ...args]);
  }

  async deleteRule(table: IptablesTableName, chain: string, args: readonly string[]): Promise<void> {
    while (this.hasRule(table, chain, args)) await this.command(table, ['-D', chain, ...args]);
  }

  async deleteChain(table: IptablesTableName, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) return;
    await this.command(table, ['-F', chain]);
    await this.command(table, ['-X', chain]);
  }

  async chainExists(table: IptablesTableName, chain: string): Promise<boolean> {
    return this.saved(table).chains.has(chain);
  }

  /** Simulates someone flushing and deleting everything (iptables -F / -X) behind our back. */
  wipe(): void {
    this.kernel.load('');
  }

  /** One `iptables -t table …` command, as a one-line restore (the kernel refuses what iptables would). */
  private async command(table: IptablesTableName, tokens: readonly string[]): Promise<void> {
    await this.kernel.restore(`*${table}\n${tokens.map(quoteToken).join(' ')}\nCOMMIT\n`, {
      validate: false,
    });
  }

  private hasRule(table: IptablesTableName, chain: string, args: readonly string[]): boolean {
    const key = [chain, ...args].join('\u0000');
    return this.saved(table).rules.some((r) => r.join('\u0000') === key);
  }

  private saved(table: IptablesTableName): SavedTable {
    const chains = new Map<string, string>();
    const rules: string[][] = [];
    for (const line of this.kernel.dump(table).split('\n')) {
      if (line.startsWith(':')) {
        const [name, policy] = line.slice(1).split(' ');
        chains.set(name as string, policy as string);
      } else if (line.startsWith('-A ')) {
        rules.push((splitTokens(line) ?? []).slice(1));
      }
    }
    return { chains, rules };
  }
}

async function* replayThenThrow(chunks: readonly string[], cause: unknown): AsyncGenerator<string> {
  yield* chunks;
  throw cause;
}
