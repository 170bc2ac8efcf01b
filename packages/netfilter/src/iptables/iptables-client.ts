import { type CommandRunner, localRunner } from '@nodeagent/primitives';
import { detectIptablesBackend, type IptablesBackend, iptablesCommands } from './backend';
import type { IptablesInterface, RuleSpec } from './iptables-interface';
import type { IpFamily, Ruleset, Table, TableName } from './model';
import {
  gatherPayload,
  NftNetlinkFallback,
  type NftNetlinkRestoreOptions,
  splitForNetlink,
  splitPiecesForNetlink,
  writeOverNetlink,
} from './nft-netlink-restore';
import { parseSave } from './parse-save';
import { type PayloadStats, payloadStats, widenNftCache } from './payload-stats';
import { splitTokens } from './quoting';
import { renderRuleArgs } from './render-rule';
import { restoreError } from './restore-error';
import type { RestoreOptions, RestoreResult, RestoreStrategy, RestoreStreamOptions } from './restore-options';
import { restorePayload } from './restore-payload';
import { widenNftCacheStream } from './widen-nft-cache-stream';

export type { RestoreOptions, RestoreResult, RestoreStrategy, RestoreStreamOptions } from './restore-options';

/** A client's family, command runner and back end (detected when unset). */
export interface IptablesClientOptions {
  family?: IpFamily;
  runner?: CommandRunner;
  /** Skip detection and use this back end. */
  backend?: IptablesBackend;
  /** `-w`: how long to wait for the xtables lock (legacy back end), seconds. Upstream uses 5. */
  waitSeconds?: number;
  /** `-W`: lock polling interval, microseconds. Upstream uses 100000. */
  waitIntervalMicros?: number;
  /**
   * On the nft back end, `restoreStream` with strategy `auto` and an `expected` size (a full
   * sync) writes the payload over this netlink socket instead of running iptables-restore,
   * falling back to the tool for a payload the writer cannot take (see nft-netlink-restore.ts).
   * `restore` (partial syncs) always runs the tool.
   */
  nftNetlink?: NftNetlinkRestoreOptions;
}

// Per rule-times-declared-chain cost of the narrowed cache relative to the per-existing-rule
// cost of listing the table, from measurements on iptables 1.8.9 (`npm run bench -w @nodeagent/netfilter`).
const WIDEN_BREAK_EVEN = 750;
const WIDEN_MIN_CHAINS = 512;

/** iptables for one family and back end: restore payloads atomically, read the kernel's rules back. */
export class IptablesClient implements IptablesInterface {
  readonly family: IpFamily;
  private readonly runner: CommandRunner;
  private backendPromise: Promise<IptablesBackend> | undefined;
  private readonly wait: string[];
  // Upper estimate of how many rules the kernel holds (what listing a table would cost).
  private knownRules = 0;
  private readonly nftNetlink: NftNetlinkRestoreOptions | undefined;

  constructor(options: IptablesClientOptions = {}) {
    this.nftNetlink = options.nftNetlink;
    this.family = options.family ?? 'ipv4';
    this.runner = options.runner ?? localRunner;
    if (options.backend) this.backendPromise = Promise.resolve(options.backend);
    this.wait = ['-w', String(options.waitSeconds ?? 5), '-W', String(options.waitIntervalMicros ?? 100_000)];
  }

  /** The back end in use, detected once (nft or legacy). */
  backend(): Promise<IptablesBackend> {
    this.backendPromise ??= detectIptablesBackend(this.runner, this.family);
    return this.backendPromise;
  }

  private async commands() {
    return iptablesCommands(await this.backend(), this.family);
  }

  /**
   * Apply a payload (or a model, validated then rendered) with `iptables-restore --noflush`.
   * Each table section commits as one kernel transaction: on failure nothing of it is applied
   * and an ApplyError names the failing line of the payload you passed.
   */
  async restore(
    input: string | Ruleset | readonly Table[],
    options: RestoreOptions = {},
  ): Promise<RestoreResult> {
    const payload = restorePayload(input, this.family, options);
    const stats = payloadStats(payload);
    const backend = await this.backend();
    const strategy = this.chooseStrategy(options.strategy ?? 'auto', backend, stats);
    const { restore } = iptablesCommands(backend, this.family);
    const args = ['--noflush', ...(options.counters ? ['--counters'] : []), ...this.wait];
    const sent =
      strategy === 'noflush-full-cache' ? widenNftCache(payload, { minChains: WIDEN_MIN_CHAINS }) : undefined;
    const result = await this.runner.run(restore, args, {
      input: sent?.payload ?? payload,
      discardStdout: true,
    });
    if (result.exitCode !== 0) {
      throw restoreError([restore, ...args], result.exitCode, result.stderr, payload, sent?.mapLine);
    }
    this.knownRules = Math.max(this.knownRules, stats.rules);
    return { strategy, chains: stats.chains, rules: stats.rules };
  }

  /**
   * Like `restore`, but the payload is written to iptables-restore's stdin while `chunks`
   * produces it, so producing and parsing overlap. Atomicity is the same: each table
   * commits at its COMMIT line. If `chunks` throws, iptables-restore is killed before the
   * rest (and so any COMMIT not yet produced) reaches it and the call rejects with
   * InputAbortedError: a producer that emits each table's COMMIT only after everything that
   * can fail leaves the kernel unchanged. No reference check (it needs the whole text); an
   * ApplyError still names the failing line of the payload as produced.
   */
  async restoreStream(
    chunks: AsyncIterable<string>,
    options: RestoreStreamOptions = {},
  ): Promise<RestoreResult> {
    const backend = await this.backend();
    const overNetlink =
      this.nftNetlink !== undefined &&
      backend === 'nft' &&
      options.expected !== undefined &&
      options.expected.chains >= (this.nftNetlink.minChains ?? 0) &&
      (options.strategy ?? 'auto') === 'auto';
    if (overNetlink)
      return this.restoreOverNetlink(chunks, options, this.nftNetlink as NftNetlinkRestoreOptions);
    return this.restoreStreamWithTool(chunks, options, backend);
  }

  /**
   * A full payload over netlink in one transaction, then any `-I`/`-D` sections (jumps from
   * built-in chains) with iptables-restore, as a non-streamed full sync sends them in a second
   * run. A payload the writer refuses goes to the tool whole, exactly as it would have.
   */
  private async restoreOverNetlink(
    chunks: AsyncIterable<string>,
    options: RestoreStreamOptions,
    nftNetlink: NftNetlinkRestoreOptions,
  ): Promise<RestoreResult> {
    // The chunks as produced, never joined: the producer may hold them too (a full sync keeps
    // its payload), and a joined copy was another 100+ MB at 250k endpoints. Kept for a fallback.
    const main = await gatherPayload(chunks, ['nf_tables netlink', this.family]);
    const tail = options.unwidenedTail?.() ?? '';
    const [ofMain, ofTail] = [splitPiecesForNetlink(main), splitForNetlink(tail)];
    let written: { chains: number; rules: number };
    try {
      written = await writeOverNetlink([...ofMain.netlink, ofTail.netlink], this.family, nftNetlink);
    } catch (err) {
      if (!(err instanceof NftNetlinkFallback)) throw err;
      nftNetlink.onFallback?.(err.reason, err.error);
      const replay = async function* () {
        yield* main;
      };
      return this.restoreStreamWithTool(replay(), { ...options, unwidenedTail: () => tail }, 'nft');
    }
    const tool = ofMain.tool + ofTail.tool;
    if (tool !== '')
      await this.restore(tool, { strategy: 'noflush', counters: options.counters, validate: false });
    const stats = options.expected ?? written;
    this.knownRules = Math.max(this.knownRules, stats.rules);
    return { strategy: 'nft-netlink', chains: stats.chains, rules: stats.rules };
  }

  private async restoreStreamWithTool(
    chunks: AsyncIterable<string>,
    options: RestoreStreamOptions,
    backend: IptablesBackend,
  ): Promise<RestoreResult> {
    const expected = options.expected;
    const strategy = expected
      ? this.chooseStrategy(options.strategy ?? 'auto', backend, { ...expected, tables: 0 })
      : options.strategy === 'noflush-full-cache'
        ? 'noflush-full-cache'
        : 'noflush';
    const { restore } = iptablesCommands(backend, this.family);
    const args = ['--noflush', ...(options.counters ? ['--counters'] : []), ...this.wait];
    // The produced text, kept (by reference) to name a failing line.
    const produced: string[] = [];
    const keep = async function* () {
      for await (const chunk of chunks) {
        produced.push(chunk);
        yield chunk;
      }
    };
    const widen = strategy === 'noflush-full-cache';
    let tail = '';
    const input = async function* () {
      yield* widen ? widenNftCacheStream(keep()) : keep();
      tail = options.unwidenedTail?.() ?? '';
      if (tail !== '') yield tail;
    };
    const result = await this.runner.run(restore, args, { input: input(), discardStdout: true });
    if (result.exitCode !== 0) {
      const streamed = produced.join('');
      // Lines inserted by widening precede the tail, so the stream's mapping covers it too.
      const mapLine = widen ? widenNftCache(streamed).mapLine : undefined;
      throw restoreError([restore, ...args], result.exitCode, result.stderr, streamed + tail, mapLine);
    }
    const stats = expected ?? payloadStats(produced.join('') + tail);
    this.knownRules = Math.max(this.knownRules, stats.rules);
    return { strategy, chains: stats.chains, rules: stats.rules };
  }

  private chooseStrategy(
    requested: RestoreStrategy,
    backend: IptablesBackend,
    { chains, rules, builtinRules }: PayloadStats,
  ): Exclude<RestoreStrategy, 'auto'> {
    if (requested !== 'auto') return requested;
    // Widening breaks rules in built-in chains of a table that does not exist yet (see widenNftCache).
    if (backend !== 'nft' || chains < WIDEN_MIN_CHAINS || builtinRules > 0) return 'noflush';
    return rules * chains > WIDEN_BREAK_EVEN * this.knownRules ? 'noflush-full-cache' : 'noflush';
  }

  /** The kernel's rules (`iptables-save`), optionally of one table, as a model. */
  /** iptables-save, parsed into the model. */
  async save(table?: TableName): Promise<Ruleset> {
    return parseSave(await this.saveText(table), this.family);
  }

  /** iptables-save's text. */
  async saveText(table?: TableName): Promise<string> {
    const { save } = await this.commands();
    const result = await this.runner.run(save, table ? ['-t', table] : []);
    if (result.exitCode !== 0) throw restoreError([save], result.exitCode, result.stderr, '');
    return result.stdout;
  }

  /** True when `chain` exists in `table` (`-S CHAIN 1` succeeds). */
  async chainExists(table: TableName, chain: string): Promise<boolean> {
    const { iptables } = await this.commands();
    return (await this.runner.run(iptables, [...this.wait, '-t', table, '-S', chain, '1'])).exitCode === 0;
  }

  /** Create a user chain if it does not exist (`-N`, tolerating "already exists"). */
  async ensureChain(table: TableName, chain: string): Promise<void> {
    if (await this.chainExists(table, chain)) return;
    await this.command(table, ['-N', chain]);
  }

  /**
   * Make sure `rule` is in `chain` (`-C`, else `-I` at the top or `-A` at the end): how
   * kube-proxy installs its jumps from built-in chains without owning them. Returns whether it
   * had to add the rule.
   */
  async ensureRule(
    position: 'prepend' | 'append',
    table: TableName,
    chain: string,
    rule: RuleSpec,
  ): Promise<boolean> {
    const args = ruleTokens(rule);
    if (await this.hasRule(table, chain, args)) return false;
    await this.command(table, [position === 'prepend' ? '-I' : '-A', chain, ...args]);
    return true;
  }

  /** Delete every copy of `rule` from `chain` (`-C` then `-D`, until `-C` fails); whether there was one. */
  async deleteRule(table: TableName, chain: string, rule: RuleSpec): Promise<boolean> {
    const args = ruleTokens(rule);
    let deleted = false;
    while (await this.hasRule(table, chain, args)) {
      await this.command(table, ['-D', chain, ...args]);
      deleted = true;
    }
    return deleted;
  }

  /** Flush (`-F`) and delete (`-X`) the user chain if it exists; whether it did. */
  async deleteChain(table: TableName, chain: string): Promise<boolean> {
    if (!(await this.chainExists(table, chain))) return false;
    await this.command(table, ['-F', chain]);
    await this.command(table, ['-X', chain]);
    return true;
  }

  private async hasRule(table: TableName, chain: string, args: readonly string[]): Promise<boolean> {
    const { iptables } = await this.commands();
    return (
      (await this.runner.run(iptables, [...this.wait, '-t', table, '-C', chain, ...args])).exitCode === 0
    );
  }

  /** One `iptables -t TABLE …` command; a failure is an ApplyError with iptables' message. */
  private async command(table: TableName, args: readonly string[]): Promise<void> {
    const { iptables } = await this.commands();
    const argv = [...this.wait, '-t', table, ...args];
    const result = await this.runner.run(iptables, argv);
    if (result.exitCode !== 0) throw restoreError([iptables, ...argv], result.exitCode, result.stderr, '');
  }
}

/** A rule's arguments after the chain name, as iptables takes them. */
function ruleTokens(rule: RuleSpec): readonly string[] {
  return Array.isArray(rule)
    ? rule
    : (splitTokens(renderRuleArgs(rule as Exclude<RuleSpec, readonly string[]>)) ?? []);
}
