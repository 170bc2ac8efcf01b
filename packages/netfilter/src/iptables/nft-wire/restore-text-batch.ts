// A restore payload's text straight into one nf_tables batch, its rules encoded as they are read
// (issue #54): a full sync's 760,000 rules never exist as model objects all at once, which at
// that size cost more in garbage collection than the parse itself. The text (a streamed
// payload's chunks, never joined into one 100+ MB copy) is read twice: once for each table's
// chain declarations and deletions (rule lines skipped unsplit), which the batch needs before
// any rule, then for the rules. Same reader, same rule parser and same encoder as parseSave +
// encodeIptablesNftBatch, so both give the same batch.

import { BatchBuffer } from '../../nftables/netlink/batch-buffer';
import type { ChainPolicy, IpFamily, TableName } from '../model';
import { parseRuleArgs } from '../parse-save';
import { readRestoreSteps } from '../restore-reader';
import { IptablesNftUnsupportedError } from './errors';
import { type IptablesNftBatchStats, RulesetEncoder, type TableHead } from './ruleset-batch';

/**
 * Modules the encoder never writes, whatever their options (writeMatch has no translation for
 * their kinds). A session-affinity Service's `-m recent` makes every full sync fall back: looked
 * for in the whole text first (one indexOf each), the fallback costs no reading and encoding up
 * to the refused rule. Text inside a comment that looks like one only sends that payload to the
 * tool, which writes it correctly too.
 */
const REFUSED_MODULES = ['recent', 'multiport', 'set'] as const;

/** Newlines in `text` before `end`. */
function newlinesBefore(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * The first refused module in `parts` (consecutive pieces of one payload), as the encoder would
 * refuse it, with its line. A match cut between two pieces is found where they meet.
 */
function refusedModule(parts: readonly string[]): IptablesNftUnsupportedError | undefined {
  for (const module of REFUSED_MODULES) {
    const needle = ` -m ${module} `;
    for (let p = 0; p < parts.length; p++) {
      const text = parts[p] as string;
      const seam = p === 0 ? '' : (parts[p - 1] as string).slice(1 - needle.length);
      const cut = (seam + text.slice(0, needle.length - 1)).indexOf(needle);
      // Negative: it begins in the piece before (the needle holds no newline).
      const at = cut >= 0 ? cut - seam.length : text.indexOf(needle);
      if (cut < 0 && at < 0) continue;
      let line = 1 + newlinesBefore(text, at);
      for (let q = 0; q < p; q++) line += newlinesBefore(parts[q] as string, Infinity);
      return new IptablesNftUnsupportedError(`line ${line}`, `match ${module}`);
    }
  }
  return undefined;
}

/** The tables of `text` as the batch opens them, in order: chains declared, chains deleted. */
function* tableHeads(text: readonly string[]): Generator<void, TableHead[]> {
  const heads: TableHead[] = [];
  let name: TableName = 'filter';
  let chains = new Map<string, { name: string; policy?: ChainPolicy }>();
  let deleteChains: string[] = [];
  // No rule handler: rule lines are skipped unsplit.
  yield* readRestoreSteps(text, {
    table(table) {
      name = table;
      chains = new Map();
      deleteChains = [];
    },
    chain(chain, policy) {
      chains.set(chain, policy ? { name: chain, policy } : { name: chain });
    },
    deleteChain(chain) {
      deleteChains.push(chain);
      chains.delete(chain);
    },
    commit() {
      heads.push({
        name,
        chains: [...chains.values()],
        ...(deleteChains.length > 0 ? { deleteChains } : {}),
      });
    },
  });
  return heads;
}

/**
 * The rules of `text` into `encoder`, each table opened from `heads`. parseSave drops the rules
 * a chain had before a later `:` line or `-X` for it; encoded already here, such a payload is
 * refused (IptablesNftUnsupportedError: the caller uses iptables-restore).
 */
function* encodeRules(
  text: readonly string[],
  heads: readonly TableHead[],
  encoder: RulesetEncoder,
): Generator<void> {
  let next = 0;
  let table: TableName = 'filter';
  const withRules = new Set<string>();
  let last = '';
  /** A table begun by the reader whose chains are still to be declared (in steps, before its rules). */
  let begun: TableHead | undefined;
  const redeclared = (chain: string) => {
    if (chain === last || withRules.has(chain))
      throw new IptablesNftUnsupportedError(
        `${table}/${chain}`,
        'a chain declared or deleted after its rules',
      );
  };
  const reading = readRestoreSteps(text, {
    table(name) {
      table = name;
      withRules.clear();
      last = '';
      begun = heads[next++] as TableHead;
    },
    chain: redeclared,
    deleteChain: redeclared,
    rule(chain, tokens) {
      if (chain !== last) {
        withRules.add(chain);
        last = chain;
      }
      encoder.rule(chain, parseRuleArgs(tokens, 2));
    },
    commit() {
      encoder.endTable();
    },
  });
  // The reader ends a step at each table's start: its chains are declared before its first rule.
  for (let step = reading.next(); ; step = reading.next()) {
    if (begun) {
      const head = begun;
      begun = undefined;
      yield* encoder.beginTableSteps(head);
    }
    if (step.done) return;
    yield;
  }
}

/**
 * Restore payload `parts` (consecutive pieces of one payload, e.g. a streamed payload's chunks,
 * read as their concatenation without making it) as one batch of nf_tables messages, the same
 * batch parseSave + encodeIptablesNftBatch give (rules in the text's order rather than grouped
 * by chain; each chain's in order). Throws ParseError for text that is not in iptables-save
 * form, IptablesNftUnsupportedError for what the encoder does not reproduce (a refused module
 * found before any reading, see REFUSED_MODULES).
 */
export function encodeRestoreTextBatch(
  parts: readonly string[],
  family: IpFamily,
  batch: BatchBuffer = new BatchBuffer(),
): { batch: BatchBuffer; stats: IptablesNftBatchStats } {
  const steps = encodeRestoreTextBatchSteps(parts, family, batch);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * encodeRestoreTextBatch in steps of a few thousand lines: iterating it encodes the next ones,
 * so a caller can hand the event loop back between steps (a full sync's 760,000 rules were one
 * 3.5 s task of kube-proxy's main thread: apps/kube-proxy/bench/loop.bench.ts). The same batch.
 */
export function* encodeRestoreTextBatchSteps(
  parts: readonly string[],
  family: IpFamily,
  batch: BatchBuffer = new BatchBuffer(),
): Generator<void, { batch: BatchBuffer; stats: IptablesNftBatchStats }> {
  const refused = refusedModule(parts);
  if (refused) throw refused;
  const heads = yield* tableHeads(parts);
  const encoder = new RulesetEncoder(batch, family);
  yield* encodeRules(parts, heads, encoder);
  encoder.stats.bytes = batch.byteLength;
  return { batch, stats: encoder.stats };
}
