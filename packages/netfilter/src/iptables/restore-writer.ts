import type { ChainPolicy, Rule, TableName } from './model';
import { renderRuleArgs } from './render-rule';

/**
 * Builds an iptables-restore payload line by line into an array joined once at the end, so a
 * 10k-Service ruleset (hundreds of thousands of lines) renders without quadratic copying.
 */
export class RestoreWriter {
  private readonly lines: string[] = [];

  /** Starts a table section (`*nat`). */
  table(name: TableName): this {
    this.lines.push(`*${name}`);
    return this;
  }

  /** `:CHAIN POLICY [0:0]` for built-ins, `:CHAIN - [0:0]` for user chains (which it creates or flushes). */
  chain(name: string, policy?: ChainPolicy): this {
    this.lines.push(`:${name} ${policy ?? '-'} [0:0]`);
    return this;
  }

  /** Appends a rule to a chain (`-A`). */
  rule(chain: string, rule: Rule): this {
    this.lines.push(`-A ${chain} ${renderRuleArgs(rule)}`);
    return this;
  }

  /** A pre-rendered rule body (after `-A CHAIN `), for callers that cache rendered rules. */
  rawRule(chain: string, args: string): this {
    this.lines.push(`-A ${chain} ${args}`);
    return this;
  }

  /** Flushes a chain (`-F`). */
  flushChain(chain: string): this {
    this.lines.push(`-F ${chain}`);
    return this;
  }

  /** Deletes a user chain (`-X`). */
  deleteChain(chain: string): this {
    this.lines.push(`-X ${chain}`);
    return this;
  }

  /** Ends the table section (`COMMIT`). */
  commit(): this {
    this.lines.push('COMMIT');
    return this;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** The payload so far, newline-terminated. */
  toString(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
