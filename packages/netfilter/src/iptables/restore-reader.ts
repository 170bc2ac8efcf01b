// The lines of an iptables-save text or restore payload, read once and handed on as what they
// declare: tables, chains, chain deletions, rules. parseSave builds the model from them; the
// netlink writer (nft-wire/restore-text-batch.ts) encodes rules as they are read, so a full
// sync's hundreds of thousands of rules never exist as objects all at once. One reader for
// both: the same lines are accepted and refused, with the same ParseError.

import { ParseError } from '../errors';
import { BUILTIN_CHAINS, TABLE_NAMES } from './builtins';
import type { ChainPolicy, TableName } from './model';
import { splitTokens } from './quoting';

/** Thrown by a rule's parser; the reader turns it into a ParseError naming the line. */
export class RuleSyntaxError extends Error {}

/** What the reader hands on, in the text's order. */
export interface RestoreLineHandler {
  /** `*name`. */
  table(name: TableName): void;
  /** `:NAME POLICY` (`policy` only for built-in chains). */
  chain(name: string, policy: ChainPolicy | undefined): void;
  /** `-X NAME`. */
  deleteChain(name: string): void;
  /**
   * `-A CHAIN …` of a chain declared before it, as its tokens (the rule's from index 2). Left
   * out, rule lines are skipped unread (not split, not checked).
   */
  rule?(chain: string, tokens: readonly string[]): void;
  /** `COMMIT` of the current table. */
  commit(): void;
}

const HASH = 35;
const STAR = 42;
const COLON = 58;

/**
 * The current table's chains as declared so far (`-X` removes one). A chain's rules come one
 * after another: the last chain found is compared before the set is asked.
 */
class DeclaredChains {
  private readonly names = new Set<string>();
  private last: string | undefined;

  add(name: string): void {
    this.names.add(name);
  }

  delete(name: string): void {
    this.names.delete(name);
    if (name === this.last) this.last = undefined;
  }

  clear(): void {
    this.names.clear();
    this.last = undefined;
  }

  has(name: string): boolean {
    if (name === this.last) return true;
    if (!this.names.has(name)) return false;
    this.last = name;
    return true;
  }
}

const DASH = 45;
const UPPER_A = 65;
const SPACE = 32;

/** Whether the line at `at` starts with `-A ` (no leading blanks: those take the general path). */
const isAppendAt = (text: string, at: number) =>
  text.charCodeAt(at) === DASH && text.charCodeAt(at + 1) === UPPER_A && text.charCodeAt(at + 2) === SPACE;

const NEWLINE = 10;

/**
 * Reads `text` line by line into `handler`. Throws ParseError for a line it cannot take.
 * `text` may be given as consecutive pieces of one payload (a streamed payload's chunks): they
 * are read as their concatenation, without making it (a full sync's is 100+ MB).
 */
export function readRestore(text: string | readonly string[], handler: RestoreLineHandler): void {
  for (const _ of readRestoreSteps(text, handler, Number.POSITIVE_INFINITY));
}

/**
 * readRestore in steps of about `linesPerStep` lines: iterating it reads the next ones, so a
 * caller can hand the event loop back between steps while a full sync's ~1M lines are read.
 */
export function* readRestoreSteps(
  text: string | readonly string[],
  handler: RestoreLineHandler,
  linesPerStep = RESTORE_LINES_PER_STEP,
): Generator<void> {
  const pieces = typeof text === 'string' ? [text] : text;
  const state: ReaderState = { table: undefined, declared: new DeclaredChains(), lineNumber: 0 };
  // A line cut between two pieces is carried whole into the next (producers cut at line ends).
  let carry = '';
  for (let i = 0; i < pieces.length; i++) {
    let piece = carry === '' ? (pieces[i] as string) : carry + (pieces[i] as string);
    carry = '';
    if (i < pieces.length - 1 && piece.length > 0 && piece.charCodeAt(piece.length - 1) !== NEWLINE) {
      const cut = piece.lastIndexOf('\n') + 1;
      carry = piece.slice(cut);
      piece = piece.slice(0, cut);
    }
    for (let from = 0; from < piece.length; ) {
      from = readLines(piece, from, linesPerStep, state, handler);
      if (from < piece.length) yield;
    }
    if (i < pieces.length - 1) yield;
  }
  // The line after a final newline counts, as the last (empty) line of the text.
  let last = '';
  for (let i = pieces.length - 1; i >= 0 && last === ''; i--) last = pieces[i] as string;
  const lastLine = last === '' || last.endsWith('\n') ? state.lineNumber + 1 : state.lineNumber;
  if (state.table) throw new ParseError(lastLine, '', `table ${state.table} has no COMMIT`);
}

/** Lines per step of readRestoreSteps: a few milliseconds of a full sync's encoding. */
const RESTORE_LINES_PER_STEP = 4096;

/** Where the reading is between pieces. */
interface ReaderState {
  table: TableName | undefined;
  readonly declared: DeclaredChains;
  lineNumber: number;
}

/**
 * The lines of `text` (ending at a line's end, or the payload's last piece) from `start`, at most
 * `count` of them, into `handler`; returns where the next line starts (text.length at the end).
 */
function readLines(
  text: string,
  start: number,
  count: number,
  state: ReaderState,
  handler: RestoreLineHandler,
): number {
  // Lines are read in place (indexOf, not split): a full sync's payload has ~1M of them.
  const skipRules = !handler.rule;
  // Only rules are checked against the declared chains: a pass without them keeps no set
  // (255k names at 5k Services x 50).
  const declared = skipRules ? undefined : state.declared;
  const stopAt = state.lineNumber + count;
  let from = start;
  while (from < text.length && state.lineNumber < stopAt) {
    const newline = text.indexOf('\n', from);
    const to = newline < 0 ? text.length : newline;
    state.lineNumber++;
    // Without a rule handler, `-A ` lines (nearly all of a full sync) are passed over unsliced.
    if (skipRules && state.table && isAppendAt(text, from)) {
      from = to + 1;
      continue;
    }
    const line = text.slice(from, to).trim();
    from = to + 1;
    if (line === '' || line.charCodeAt(0) === HASH) continue;
    if (line.charCodeAt(0) === STAR) {
      if (state.table) throw new ParseError(state.lineNumber, line, 'table started before COMMIT');
      const name = line.slice(1) as TableName;
      if (!TABLE_NAMES.includes(name)) throw new ParseError(state.lineNumber, line, 'unknown table');
      state.table = name;
      declared?.clear();
      handler.table(name);
      // A step ends at a table's start: its handler may have work to do in steps before the rules.
      return from;
    }
    const table = state.table;
    if (!table) throw new ParseError(state.lineNumber, line, 'line outside a table');
    if (line === 'COMMIT') {
      handler.commit();
      state.table = undefined;
      continue;
    }
    if (skipRules && (line.startsWith('-A ') || line.startsWith('--append '))) continue;
    const reason = readTableLine(table, declared, line, handler);
    if (reason !== undefined) throw new ParseError(state.lineNumber, line, reason);
  }
  return from;
}

/** `:NAME POLICY …`'s first two fields (a full sync declares 255,000 chains: no regex unless tabbed). */
function chainLineFields(line: string): [string | undefined, string | undefined] {
  const space = line.indexOf(' ');
  const end = space < 0 ? -1 : line.indexOf(' ', space + 1);
  if (line.includes('\t') || space === 1 || end === space + 1) {
    const [name, policy] = line.slice(1).split(/\s+/);
    return [name, policy];
  }
  if (space < 0) return [line.slice(1), undefined];
  return [line.slice(1, space), line.slice(space + 1, end < 0 ? line.length : end)];
}

/** One `:CHAIN POLICY`, `-X CHAIN` or `-A CHAIN …` line of `table`; the reason when it is bad. */
function readTableLine(
  table: TableName,
  declared: DeclaredChains | undefined,
  line: string,
  handler: RestoreLineHandler,
): string | undefined {
  if (line.charCodeAt(0) === COLON) {
    const [name, policy] = chainLineFields(line);
    if (!name || !policy) return 'bad chain line';
    const builtin = BUILTIN_CHAINS[table].includes(name);
    if (builtin && policy !== 'ACCEPT' && policy !== 'DROP') return 'bad policy';
    declared?.add(name);
    handler.chain(name, builtin ? (policy as ChainPolicy) : undefined);
    return undefined;
  }
  const tokens = splitTokens(line);
  if (!tokens) return 'unterminated quote';
  const command = tokens[0];
  const chain = tokens[1];
  if (command === '-X' && chain) {
    declared?.delete(chain);
    handler.deleteChain(chain);
    return undefined;
  }
  if ((command !== '-A' && command !== '--append') || !chain) return 'expected -A CHAIN';
  // Without a rule handler, rules are not checked (see RestoreLineHandler.rule).
  if (!declared) return undefined;
  if (!declared.has(chain)) return `rule for undeclared chain ${chain}`;
  try {
    handler.rule?.(chain, tokens);
  } catch (error) {
    if (error instanceof RuleSyntaxError) return error.message;
    throw error;
  }
  return undefined;
}
