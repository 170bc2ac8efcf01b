import { InputAbortedError } from '@nodeagent/primitives';
import { ApplyError } from '../errors';
import type { IptablesBackend } from './backend';
import {
  BUILTIN_CHAINS,
  isBuiltinChain,
  KNOWN_EXTENSION_TARGETS,
  MODELLED_TARGETS,
  TABLE_NAMES,
} from './builtins';
import type { IptablesInterface, RuleSpec } from './iptables-interface';
import type { IpFamily, Ruleset, Table, TableName } from './model';
import { parseSave } from './parse-save';
import { payloadStats } from './payload-stats';
import { quoteToken, splitTokens } from './quoting';
import { renderRuleArgs } from './render-rule';
import type { RestoreOptions, RestoreResult, RestoreStreamOptions } from './restore-options';
import { restorePayload } from './restore-payload';

interface ChainState {
  /** Built-in chains only: `ACCEPT` or `DROP`. */
  policy: string | undefined;
  /** Each rule's arguments after `-A <chain>`, re-quoted so equal rules compare equal. */
  rules: string[];
}

type TableState = Map<string, ChainState>;

const RESTORE_COMMAND = ['iptables-restore', '--noflush'];

/**
 * An in-memory iptables with the same interface as IptablesClient. `restore` reads the payload
 * the way `iptables-restore --noflush` does: `:CHAIN` creates a user chain or flushes an existing
 * one (a built-in chain's declaration only sets its policy), `-A`/`-I`/`-D`/`-F`/`-X`/`-N` act on
 * the table, and each `*table` … `COMMIT` section applies all-or-nothing; a line the real tool
 * would refuse (unknown chain, jump to a missing chain, deleting a chain still referenced) fails
 * with an ApplyError naming that line. `dump()` prints the state in iptables-save form so tests
 * can assert on whole rulesets, and `load()` seeds one.
 */
export class FakeIptables implements IptablesInterface {
  private tables = new Map<TableName, TableState>();
  /** Every payload `restore`/`restoreStream` was given (a stream's with its tail), in order, failed ones too. */
  readonly restores: string[] = [];
  /** The chunk count of each `restoreStream` that read its input to the end. */
  readonly streams: number[] = [];
  /**
   * The next this-many restores (`restore` or `restoreStream`) fail with an ApplyError before
   * anything is applied, as when iptables-restore exits non-zero: to test a caller's retry path.
   */
  failNextRestore = 0;
  /** The next this-many `save`/`saveText` calls fail with an ApplyError (a failed iptables-save). */
  failNextSave = 0;

  constructor(
    readonly family: IpFamily = 'ipv4',
    private readonly backendName: IptablesBackend = 'nft',
  ) {
    for (const table of TABLE_NAMES) this.tables.set(table, emptyTable(table));
  }

  async backend(): Promise<IptablesBackend> {
    return this.backendName;
  }

  async restore(
    input: string | Ruleset | readonly Table[],
    options: RestoreOptions = {},
  ): Promise<RestoreResult> {
    const payload = restorePayload(input, this.family, options);
    this.restores.push(payload);
    this.injectedRestoreFailure();
    this.apply(payload);
    const stats = payloadStats(payload);
    return {
      strategy: options.strategy === 'noflush-full-cache' ? 'noflush-full-cache' : 'noflush',
      ...counts(stats),
    };
  }

  async restoreStream(
    chunks: AsyncIterable<string>,
    options: RestoreStreamOptions = {},
  ): Promise<RestoreResult> {
    let produced = '';
    let read = 0;
    try {
      for await (const chunk of chunks) {
        produced += chunk;
        read++;
      }
    } catch (cause) {
      // The real tool is killed mid-input: sections whose COMMIT it already read stay applied.
      this.restores.push(produced);
      const lastCommit = produced.lastIndexOf('\nCOMMIT\n');
      if (lastCommit >= 0) this.apply(produced.slice(0, lastCommit + '\nCOMMIT\n'.length));
      throw new InputAbortedError(RESTORE_COMMAND, Buffer.byteLength(produced), cause);
    }
    this.streams.push(read);
    const payload = produced + (options.unwidenedTail?.() ?? '');
    this.restores.push(payload);
    this.injectedRestoreFailure();
    this.apply(payload);
    const strategy = options.strategy === 'noflush-full-cache' ? 'noflush-full-cache' : 'noflush';
    return { strategy, ...counts(options.expected ?? payloadStats(payload)) };
  }

  /** The fake's rules, as the model. */
  async save(table?: TableName): Promise<Ruleset> {
    return parseSave(await this.saveText(table), this.family);
  }

  /** The fake's rules as iptables-save text. */
  async saveText(table?: TableName): Promise<string> {
    if (this.failNextSave > 0) {
      this.failNextSave--;
      throw new ApplyError(
        ['iptables-save'],
        1,
        'iptables-save: injected failure (failNextSave)',
        undefined,
        undefined,
      );
    }
    return this.dump(table);
  }

  async chainExists(table: TableName, chain: string): Promise<boolean> {
    return this.table(table).has(chain);
  }

  async ensureChain(table: TableName, chain: string): Promise<void> {
    if (!this.table(table).has(chain)) this.command(table, ['-N', chain]);
  }

  /** As `iptables -C`, then `-I`/`-A`: a missing chain or jump target fails as iptables would. */
  async ensureRule(
    position: 'prepend' | 'append',
    table: TableName,
    chain: string,
    rule: RuleSpec,
  ): Promise<boolean> {
    const args = fakeRuleTokens(rule);
    if (this.hasRule(table, chain, args)) return false;
    this.command(table, [position === 'prepend' ? '-I' : '-A', chain, ...args]);
    return true;
  }

  async deleteRule(table: TableName, chain: string, rule: RuleSpec): Promise<boolean> {
    const args = fakeRuleTokens(rule);
    let deleted = false;
    while (this.hasRule(table, chain, args)) {
      this.command(table, ['-D', chain, ...args]);
      deleted = true;
    }
    return deleted;
  }

  async deleteChain(table: TableName, chain: string): Promise<boolean> {
    if (!this.table(table).has(chain)) return false;
    this.command(table, ['-F', chain]);
    this.command(table, ['-X', chain]);
    return true;
  }

  /** User chains of `table` (built-in chains left out), in creation order. */
  userChains(table: TableName): string[] {
    return [...this.table(table).keys()].filter((chain) => !isBuiltinChain(table, chain));
  }

  /** Rules in built-in chains, as "table CHAIN args…" (args as iptables-save quotes them). */
  builtinChainRules(): string[] {
    const out: string[] = [];
    for (const name of TABLE_NAMES)
      for (const [chain, c] of this.table(name))
        if (isBuiltinChain(name, chain)) for (const rule of c.rules) out.push(`${name} ${chain} ${rule}`);
    return out;
  }

  /** A failure injected with failNextRestore: the payload is recorded, nothing applied. */
  private injectedRestoreFailure(): void {
    if (this.failNextRestore <= 0) return;
    this.failNextRestore--;
    throw new ApplyError(
      RESTORE_COMMAND,
      1,
      'iptables-restore: injected failure (failNextRestore)',
      undefined,
      undefined,
    );
  }

  private hasRule(table: TableName, chain: string, args: readonly string[]): boolean {
    return this.table(table).get(chain)?.rules.includes(canonicalArgs(args)) ?? false;
  }

  /** One `iptables -t TABLE …` command, applied as the one-line transaction it is. */
  private command(table: TableName, tokens: readonly string[]): void {
    const working = cloneTable(this.table(table));
    const argv = ['iptables', '-t', table, ...tokens];
    applyCommand(
      working,
      tokens,
      (reason) => new ApplyError(argv, 1, `iptables: ${reason}`, undefined, undefined),
    );
    this.tables.set(table, working);
  }

  /**
   * The state as iptables-save prints it: every table that has a user chain or a rule (or, when
   * `table` is given, that table), built-in chains first, then user chains in creation order.
   */
  dump(table?: TableName): string {
    const lines: string[] = [];
    for (const name of table ? [table] : TABLE_NAMES) {
      const state = this.table(name);
      const used = [...state].some(([chain, c]) => c.rules.length > 0 || !isBuiltinChain(name, chain));
      if (!used && table === undefined) continue;
      lines.push(`*${name}`);
      for (const [chain, c] of state) lines.push(`:${chain} ${c.policy ?? '-'} [0:0]`);
      for (const [chain, c] of state) for (const rule of c.rules) lines.push(`-A ${chain} ${rule}`);
      lines.push('COMMIT');
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  /** Replace the whole state with a payload in iptables-save form (no checks beyond parsing). */
  load(text: string): void {
    for (const table of TABLE_NAMES) this.tables.set(table, emptyTable(table));
    this.apply(text);
  }

  private table(name: TableName): TableState {
    const state = this.tables.get(name);
    if (!state)
      throw new ApplyError(
        RESTORE_COMMAND,
        1,
        `can't initialize iptables table '${name}'`,
        undefined,
        undefined,
      );
    return state;
  }

  private apply(payload: string): void {
    const lines = payload.split('\n');
    let tableName: TableName | undefined;
    let working: TableState | undefined;
    const failure = (index: number, reason: string) => {
      const line = index + 1;
      return new ApplyError(
        RESTORE_COMMAND,
        1,
        `iptables-restore: line ${line} failed: ${reason}`,
        line,
        lines[index],
      );
    };
    for (const [index, raw] of lines.entries()) {
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) continue;
      if (text.startsWith('*')) {
        const name = text.slice(1) as TableName;
        if (!TABLE_NAMES.includes(name)) throw failure(index, `unknown table ${name}`);
        tableName = name;
        working = cloneTable(this.table(name));
        continue;
      }
      if (!tableName || !working) throw failure(index, 'no table specified');
      if (text === 'COMMIT') {
        this.tables.set(tableName, working);
        tableName = undefined;
        working = undefined;
        continue;
      }
      const tokens = splitTokens(text);
      if (!tokens || tokens.length === 0) throw failure(index, 'unparsable line');
      if (text.startsWith(':')) {
        const chain = (tokens[0] as string).slice(1);
        const existing = working.get(chain);
        if (isBuiltinChain(tableName, chain)) {
          if (existing && tokens[1] && tokens[1] !== '-') existing.policy = tokens[1];
        } else if (existing) {
          existing.rules = [];
        } else {
          working.set(chain, { policy: undefined, rules: [] });
        }
        continue;
      }
      applyCommand(working, tokens, (reason) => failure(index, reason));
    }
    if (tableName) throw failure(lines.length - 1, 'COMMIT expected at the end of the payload');
  }
}

function applyCommand(
  table: TableState,
  tokens: readonly string[],
  failure: (reason: string) => ApplyError,
): void {
  const [op, chainArg, ...rest] = tokens;
  const chain = chainArg ?? '';
  const state = table.get(chain);
  switch (op) {
    case '-N':
      if (state) throw failure(`chain ${chain} already exists`);
      table.set(chain, { policy: undefined, rules: [] });
      return;
    case '-F':
      if (chainArg === undefined) for (const c of table.values()) c.rules = [];
      else if (!state) throw failure(`no chain ${chain}`);
      else state.rules = [];
      return;
    case '-X': {
      const doomed =
        chainArg === undefined
          ? [...table.keys()].filter((c) => table.get(c)?.policy === undefined)
          : [chain];
      for (const name of doomed) {
        const target = table.get(name);
        if (!target) throw failure(`no chain ${name}`);
        if (target?.policy !== undefined) throw failure(`cannot delete built-in chain ${name}`);
        if (target && target.rules.length > 0) throw failure(`chain ${name} is not empty`);
        const referrer = [...table].find(([, c]) =>
          c.rules.some((rule) => jumpTarget(splitTokens(rule) ?? []) === name),
        );
        if (referrer && !doomed.includes(referrer[0]))
          throw failure(`chain ${name} is referenced by ${referrer[0]}`);
      }
      for (const name of doomed) table.delete(name);
      return;
    }
    case '-A':
    case '-I':
    case '-D': {
      if (!state) throw failure(`chain ${chain} does not exist`);
      let args = rest;
      let position = 0;
      if (op === '-I' && /^\d+$/.test(args[0] ?? '')) {
        position = Number(args[0]) - 1;
        args = args.slice(1);
      }
      const target = jumpTarget(args);
      if (target !== undefined && !table.has(target) && !isKnownTarget(target))
        throw failure(`target ${target} does not exist`);
      const rule = canonicalArgs(args);
      if (op === '-A') state.rules.push(rule);
      else if (op === '-I') state.rules.splice(Math.min(position, state.rules.length), 0, rule);
      else {
        const at = state.rules.indexOf(rule);
        if (at < 0) throw failure(`no such rule in ${chain}`);
        state.rules.splice(at, 1);
      }
      return;
    }
    default:
      throw failure(`unsupported command ${op}`);
  }
}

function jumpTarget(args: readonly string[]): string | undefined {
  const at = args.findIndex(
    (token) => token === '-j' || token === '--jump' || token === '-g' || token === '--goto',
  );
  return at < 0 ? undefined : args[at + 1];
}

function isKnownTarget(target: string): boolean {
  return MODELLED_TARGETS.has(target) || KNOWN_EXTENSION_TARGETS.has(target);
}

function fakeRuleTokens(rule: RuleSpec): readonly string[] {
  return Array.isArray(rule)
    ? rule
    : (splitTokens(renderRuleArgs(rule as Exclude<RuleSpec, readonly string[]>)) ?? []);
}

function canonicalArgs(tokens: readonly string[]): string {
  return tokens.map(quoteToken).join(' ');
}

function emptyTable(name: TableName): TableState {
  return new Map(BUILTIN_CHAINS[name].map((chain) => [chain, { policy: 'ACCEPT', rules: [] }]));
}

function cloneTable(table: TableState): TableState {
  return new Map([...table].map(([name, c]) => [name, { policy: c.policy, rules: [...c.rules] }]));
}

function counts(stats: { chains: number; rules: number }) {
  return { chains: stats.chains, rules: stats.rules };
}
