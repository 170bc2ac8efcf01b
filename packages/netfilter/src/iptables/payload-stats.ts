import { BUILTIN_CHAINS } from './builtins';
import type { TableName } from './model';

/** Counts of a restore payload's chain declarations and rules, by scanning line starts once. */
export interface PayloadStats {
  chains: number;
  /** `-A` lines. */
  rules: number;
  tables: number;
  /** `-A` / `-I` / `-D` / `-R` lines on a built-in chain (INPUT, PREROUTING, …). */
  builtinRules: number;
}

/** Chains, rules and tables an iptables-restore payload declares, counted without parsing it fully. */
export function payloadStats(payload: string): PayloadStats {
  const stats: PayloadStats = { chains: 0, rules: 0, tables: 0, builtinRules: 0 };
  let builtins: readonly string[] = [];
  let start = 0;
  while (start < payload.length) {
    const c = payload.charCodeAt(start);
    const next = payload.indexOf('\n', start);
    if (c === 58 /* : */) stats.chains++;
    else if (c === 45 /* - */) {
      const op = payload.charCodeAt(start + 1);
      if (op === 65 /* A */) stats.rules++;
      // A (insert, delete, replace) followed by a space and a built-in chain name and a space.
      if ((op === 65 || op === 73 || op === 68 || op === 82) && payload.charCodeAt(start + 2) === 32) {
        for (const b of builtins) {
          if (payload.startsWith(b, start + 3) && payload.charCodeAt(start + 3 + b.length) === 32) {
            stats.builtinRules++;
            break;
          }
        }
      }
    } else if (c === 42 /* * */) {
      stats.tables++;
      const name = payload.slice(start + 1, next < 0 ? undefined : next).trim() as TableName;
      builtins = BUILTIN_CHAINS[name] ?? [];
    }
    if (next < 0) break;
    start = next + 1;
  }
  return stats;
}

/**
 * Insert `-S` (list the table) right after every `*table` line. Under `--noflush`,
 * iptables-nft narrows its kernel cache to the chains a payload names and keeps them in a
 * sorted linked list, so each of N rules pays O(chains): a 10k-Service payload takes minutes.
 * One command that names no chain makes it fetch the whole table instead and skip that list;
 * `-S` is the cheapest such command that changes nothing. Returns the new payload and a map
 * from its line numbers back to the original's.
 *
 * Not for payloads with rules in built-in chains: listing a table that does not exist yet makes
 * iptables-nft 1.8 put placeholder built-in chains in its cache, so a following `-A INPUT …`
 * fails with "RULE_APPEND failed (No such file or directory)" instead of creating the chain.
 */
export function widenNftCache(
  payload: string,
  /**
   * Widen only table sections declaring at least this many chains. After a big section's
   * COMMIT, a `-S` in a later small section makes iptables-nft list the whole ruleset again
   * (2 s at 10k Services), while a small section is fast with the narrowed cache anyway.
   */
  options: { minChains?: number } = {},
): {
  /** The payload with the `-S` lines inserted. */
  payload: string;
  /**
   * A 1-based line number of the new payload (as iptables-restore names a failing line) → the
   * original's line; an inserted `-S` maps to the `*table` line before it.
   */
  mapLine: (line: number) => number;
} {
  const wide = sectionsToWiden(payload, options.minChains ?? 0);
  const parts: string[] = [];
  const insertedAfter: number[] = [];
  let lineNumber = 0;
  let start = 0;
  let copied = 0;
  let section = -1;
  while (start < payload.length) {
    lineNumber++;
    const end = payload.indexOf('\n', start);
    const lineEnd = end < 0 ? payload.length : end;
    if (payload.charCodeAt(start) === 42 /* * */ && wide[++section]) {
      parts.push(payload.slice(copied, lineEnd), '\n-S');
      copied = lineEnd;
      insertedAfter.push(lineNumber);
    }
    if (end < 0) break;
    start = end + 1;
  }
  parts.push(payload.slice(copied));
  return {
    payload: parts.join(''),
    mapLine: (sent) => {
      let shift = 0;
      for (const [k, after] of insertedAfter.entries()) {
        const insertedAt = after + k + 1;
        if (sent === insertedAt) return after;
        if (insertedAt < sent) shift++;
      }
      return sent - shift;
    },
  };
}

/** For each `*table` section in order: whether it declares at least `minChains` chains. */
function sectionsToWiden(payload: string, minChains: number): boolean[] {
  const counts: number[] = [];
  let start = 0;
  while (start < payload.length) {
    const c = payload.charCodeAt(start);
    if (c === 42 /* * */) counts.push(0);
    else if (c === 58 /* : */ && counts.length > 0) counts[counts.length - 1]!++;
    const next = payload.indexOf('\n', start);
    if (next < 0) break;
    start = next + 1;
  }
  return counts.map((n) => n >= minChains);
}
