/** Counts of a restore payload's chain declarations and rules, by scanning line starts once. */
export interface PayloadStats {
  chains: number;
  rules: number;
  tables: number;
}

export function payloadStats(payload: string): PayloadStats {
  const stats: PayloadStats = { chains: 0, rules: 0, tables: 0 };
  let start = 0;
  while (start < payload.length) {
    const c = payload.charCodeAt(start);
    if (c === 58 /* : */) stats.chains++;
    else if (c === 45 /* - */ && payload.charCodeAt(start + 1) === 65 /* A */) stats.rules++;
    else if (c === 42 /* * */) stats.tables++;
    const next = payload.indexOf('\n', start);
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
 */
export function widenNftCache(payload: string): { payload: string; mapLine: (line: number) => number } {
  const parts: string[] = [];
  const insertedAfter: number[] = [];
  let lineNumber = 0;
  let start = 0;
  let copied = 0;
  while (start < payload.length) {
    lineNumber++;
    const end = payload.indexOf('\n', start);
    const lineEnd = end < 0 ? payload.length : end;
    if (payload.charCodeAt(start) === 42 /* * */) {
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
