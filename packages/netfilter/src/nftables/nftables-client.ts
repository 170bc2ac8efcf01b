import { type CommandRunner, localRunner } from '@nodeagent/primitives';
import { ApplyError } from '../errors';
import { lineAt } from '../iptables/restore-error';
import type { NftFamily, NftRuleset } from './model';
import type { NftablesInterface } from './nftables-interface';
import { parseNftJson } from './parse-json';
import { type RenderScriptOptions, renderScript } from './render-script';
import { NftTransaction } from './transaction';

/** The table a client manages, and how it runs nft. */
export interface NftablesClientOptions {
  family: NftFamily;
  table: string;
  runner?: CommandRunner;
  /** The nft binary (default `nft` on PATH). */
  nft?: string;
  render?: RenderScriptOptions;
}

/** nft reports `<file>:<line>:<col>[-<col>]: Error: <message>`. */
export function nftErrorLine(stderr: string): number | undefined {
  const match = /^[^\n:]*:(\d+):\d+(?:-\d+)?: Error:/m.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

/**
 * nftables through the `nft` tool: each transaction is rendered to one script and applied by
 * one `nft -f -` run, which the kernel commits as a single transaction. The script only names
 * the objects it changes, so nft loads no more of the table than those objects need.
 */
export class NftablesClient implements NftablesInterface {
  readonly family: NftFamily;
  readonly table: string;
  private readonly runner: CommandRunner;
  private readonly nft: string;
  private readonly renderOptions: RenderScriptOptions;

  constructor(options: NftablesClientOptions) {
    this.family = options.family;
    this.table = options.table;
    this.runner = options.runner ?? localRunner;
    this.nft = options.nft ?? 'nft';
    this.renderOptions = options.render ?? {};
  }

  /** An empty transaction on this client's table. */
  newTransaction(): NftTransaction {
    return new NftTransaction();
  }

  /** The `nft -f` script a transaction runs as. */
  render(tx: NftTransaction): string {
    return renderScript(this.family, this.table, tx, this.renderOptions);
  }

  async check(tx: NftTransaction): Promise<void> {
    await this.runScript(this.render(tx), ['--check']);
  }

  async run(tx: NftTransaction): Promise<void> {
    if (tx.size === 0) return;
    await this.runScript(this.render(tx), []);
  }

  /** Apply a pre-rendered script (e.g. one rendered once and applied to many namespaces). */
  async runScript(script: string, extraArgs: readonly string[] = []): Promise<void> {
    const args = [...extraArgs, '-f', '-'];
    const result = await this.runner.run(this.nft, args, { input: script, discardStdout: true });
    if (result.exitCode !== 0) {
      const line = nftErrorLine(result.stderr);
      throw new ApplyError(
        [this.nft, ...args],
        result.exitCode,
        result.stderr,
        line,
        line === undefined ? undefined : lineAt(script, line),
      );
    }
  }

  async list(): Promise<NftRuleset> {
    const target = ['table', this.family, this.table];
    const json = await this.runner.run(this.nft, ['-j', 'list', ...target]);
    if (json.exitCode !== 0)
      throw new ApplyError(
        [this.nft, '-j', 'list', ...target],
        json.exitCode,
        json.stderr,
        undefined,
        undefined,
      );
    // -t: leave named set elements out of the text listing; they come from the JSON.
    const text = await this.runner.run(this.nft, ['-a', '-t', 'list', ...target]);
    if (text.exitCode !== 0)
      throw new ApplyError(
        [this.nft, '-a', 'list', ...target],
        text.exitCode,
        text.stderr,
        undefined,
        undefined,
      );
    return parseNftJson(json.stdout, text.stdout);
  }

  /** Does the table exist? */
  async exists(): Promise<boolean> {
    const result = await this.runner.run(this.nft, ['list', 'table', this.family, this.table], {
      discardStdout: true,
    });
    return result.exitCode === 0;
  }
}
