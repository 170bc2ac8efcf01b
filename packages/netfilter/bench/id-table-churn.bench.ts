// `npm run bench:id-table -w @nodeagent/netfilter`: one element container of kube-proxy's
// nftables table at 250k endpoints (510k ids) under steady churn, as the soak drives it: each
// change deletes an id and adds a new one, 600k changes in all (more than the container holds,
// so the positions deleted entries leave are packed once). What a sync's main-thread task pays
// is the slowest single change, so the bench reports the changes over 5 ms and the longest,
// beside a JS Map doing the same changes in the same process (the floor: V8's own hash table).
// Results: bench-results/netfilter-id-table.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IdTable } from '../src/nftables/id-table';

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, '..', '..', '..', 'bench-results', 'netfilter-id-table.json');
const LIVE = 510_000;
const CHANGES = 600_000;
const SLOW_MS = 5;

/** An element id as the table keys one: address, protocol, port. */
const id = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} . tcp . ${8000 + (i % 50)}`;

interface Churned {
  set(id: string, value: string): unknown;
  delete(id: string): boolean;
}

function churn(make: () => Churned) {
  const table = make();
  for (let i = 0; i < LIVE; i++) table.set(id(i), 'goto endpoint-a');
  const slow: number[] = [];
  let longest = 0;
  const start = performance.now();
  for (let i = LIVE; i < LIVE + CHANGES; i++) {
    const t = performance.now();
    table.delete(id(i - LIVE));
    table.set(id(i), 'goto endpoint-b');
    const ms = performance.now() - t;
    if (ms > longest) longest = ms;
    if (ms > SLOW_MS) slow.push(ms);
  }
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    totalMs: round(performance.now() - start),
    longestMs: round(longest),
    changesOver5Ms: slow.length,
    slowestMs: slow
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map(round),
  };
}

const map = churn(() => new Map<string, string>());
const idTable = churn(() => new IdTable<string>());
const results = {
  generatedAt: new Date().toISOString(),
  shape: `${LIVE} ids, ${CHANGES} changes (one id deleted, one new id added)`,
  floor: { name: 'JS Map', ...map },
  idTable,
  ratios: { total: Math.round((idTable.totalMs / map.totalMs) * 100) / 100 },
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
