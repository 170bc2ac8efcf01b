// Where a netlink sync's time goes, stage by stage, in CPU time (the shared machine's load
// inflates wall-clock time far more): the first full sync of n Services (API objects already
// in the proxy state → kernel) and one-slice changes after it, each split into snapshot (change
// trackers → ProxySnapshot), build (NftablesRuleset.update), transaction (full or diff
// transaction), encode (rules compiled, nf_tables messages written) and send (batch datagram,
// sendmsg, the kernel's check and commit, the replies). Each size runs in its own child process
// inside a throwaway network namespace, so every first sync starts as cold as kube-proxy's.
// KP_NFT_STAGE_SIZES (default 1000,10000,50000), KP_NFT_STAGE_CHANGES (default 200);
// KP_NFT_STAGE_PROFILE=<dir> writes .cpuprofiles of each first sync and of the changes there;
// KP_NFT_STAGE_HEAP_PROFILE=<dir> a sampled .heapprofile of the changes' allocations (garbage included);
// KP_NFT_STAGE_FULL_PATH=transaction sends the first sync as run(fullTransaction()) instead.
// Run: npm run bench:nftables-stages -w @nodeagent/kube-proxy  (root needed).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { NetlinkNftablesClient } from '@nodeagent/netfilter/nftables';
import { ProxyState } from '../src/index';
import { NFTABLES_TABLE, NftablesRuleset, nftLocalDetector } from '../src/nftables/index';
import { benchCluster, benchSlice } from './bench-cluster';

const SIZES = (process.env.KP_NFT_STAGE_SIZES ?? '1000,10000,50000')
  .split(',')
  .map(Number)
  .filter((x) => x > 0);
const CHANGES = Number(process.env.KP_NFT_STAGE_CHANGES ?? 200);
const PROFILE_DIR = process.env.KP_NFT_STAGE_PROFILE;
const HEAP_PROFILE_DIR = process.env.KP_NFT_STAGE_HEAP_PROFILE;
/** `table` (runTable, the proxier's path) or `transaction` (run(fullTransaction()), an object per element). */
const FULL_PATH = process.env.KP_NFT_STAGE_FULL_PATH === 'transaction' ? 'transaction' : 'table';
const ENDPOINTS = 10;
const NODE = 'node-a';
const backend = { localDetector: nftLocalDetector({ cidr: '10.128.0.0/9', ipv6: false }) };
const out = join(import.meta.dirname, '..', '..', '..', 'bench-results');
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** CPU milliseconds (user + system) of this process so far; the kernel's batch work is system time. */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Stage = 'snapshot' | 'build' | 'transaction' | 'encode' | 'send';
type StageTimes = Record<Stage | 'total', { cpuMs: number; wallMs: number }>;

/** One sync split into stages: CPU and wall ms of each (encode and send as the client timed them). */
async function timedSync(
  state: ProxyState,
  ruleset: NftablesRuleset,
  client: NetlinkNftablesClient,
  full: boolean,
): Promise<StageTimes> {
  const times = {} as StageTimes;
  let cpu = cpuNow();
  let wall = performance.now();
  const cpu0 = cpu;
  const wall0 = wall;
  const mark = (stage: Stage | 'encode+send') => {
    const c = cpuNow();
    const w = performance.now();
    if (stage !== 'encode+send') times[stage] = { cpuMs: c - cpu, wallMs: w - wall };
    else {
      // The client timed encode and send apart.
      const batch = client.lastBatch;
      const encodeMs = batch?.encodeMs ?? 0;
      const encodeCpuMs = batch?.encodeCpuMs ?? 0;
      times.encode = { cpuMs: encodeCpuMs, wallMs: encodeMs };
      times.send = { cpuMs: c - cpu - encodeCpuMs, wallMs: w - wall - encodeMs };
    }
    cpu = c;
    wall = w;
  };
  const snapshot = state.snapshot();
  mark('snapshot');
  ruleset.update(snapshot);
  mark('build');
  if (full && FULL_PATH === 'table') {
    // What the proxier does: the structure as operations, the elements as the table's text.
    const structure = ruleset.table.fullStructure();
    mark('transaction');
    await client.runTable({
      fullStructure: () => structure,
      forEachElementText: (visit) => ruleset.table.forEachElementText(visit),
    });
  } else {
    const tx = full ? ruleset.fullTransaction() : ruleset.diffTransaction();
    if (!tx) throw new Error('no diff transaction');
    mark('transaction');
    await client.run(tx);
  }
  mark('encode+send');
  ruleset.commit();
  times.total = { cpuMs: cpuNow() - cpu0, wallMs: performance.now() - wall0 };
  return times;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs in the namespace: the first full sync, then CHANGES one-slice changes. */
async function namespaceRun(n: number) {
  const c = benchCluster(n, ENDPOINTS);
  const state = new ProxyState('IPv4', NODE);
  for (const s of c.services) state.onService(undefined, s);
  for (const s of c.slices) state.onEndpointSlice(s, false);
  const ruleset = new NftablesRuleset('IPv4', backend);
  const client = new NetlinkNftablesClient({ family: 'ip', table: NFTABLES_TABLE });
  await client.exists(); // open the socket (and load the addon) outside the timed sync
  const profiler = PROFILE_DIR ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const first = await timedSync(state, ruleset, client, true);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    mkdirSync(PROFILE_DIR!, { recursive: true });
    writeFileSync(join(PROFILE_DIR!, `first-sync-${n}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
  }
  const firstBatch = { ...client.lastBatch! };
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  // Allocation of the changes, garbage included (what drives the young-generation collections).
  const heapProfiler = HEAP_PROFILE_DIR ? new Session() : undefined;
  if (heapProfiler) {
    heapProfiler.connect();
    await heapProfiler.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  const changes: StageTimes[] = [];
  const batches: { messages: number; bytes: number }[] = [];
  for (let k = 1; k <= CHANGES; k++) {
    const i = (k * 7919) % n;
    const gen = 1 + ((k - 1) % 5);
    state.onEndpointSlice(
      benchSlice(i, ENDPOINTS, (e) => (e === ENDPOINTS - 1 ? gen : 0)),
      false,
    );
    changes.push(await timedSync(state, ruleset, client, false));
    batches.push({ messages: client.lastBatch!.messages, bytes: client.lastBatch!.bytes });
  }
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(PROFILE_DIR!, `changes-${n}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
  }
  if (heapProfiler) {
    const { profile } = await heapProfiler.post('HeapProfiler.stopSampling');
    mkdirSync(HEAP_PROFILE_DIR!, { recursive: true });
    writeFileSync(join(HEAP_PROFILE_DIR!, `changes-${n}.heapprofile`), JSON.stringify(profile));
    heapProfiler.disconnect();
  }
  await client.close();
  const perStage = (pick: (t: StageTimes) => number) => {
    const s = changes.map(pick).sort((a, b) => a - b);
    return { p50: round(percentile(s, 50), 3), p99: round(percentile(s, 99), 3) };
  };
  const stages: (Stage | 'total')[] = ['snapshot', 'build', 'transaction', 'encode', 'send', 'total'];
  return {
    services: n,
    fullPath: FULL_PATH,
    firstSync: Object.fromEntries(
      stages.map((s) => [s, { cpuMs: round(first[s].cpuMs), wallMs: round(first[s].wallMs) }]),
    ),
    firstBatch: { operations: firstBatch.operations, messages: firstBatch.messages, bytes: firstBatch.bytes },
    change: {
      count: CHANGES,
      cpuMs: Object.fromEntries(stages.map((s) => [s, perStage((t) => t[s].cpuMs)])),
      wallMs: perStage((t) => t.total.wallMs),
      batchMessagesMedian: batches.map((b) => b.messages).sort((a, b) => a - b)[batches.length >> 1],
      batchBytesMedian: batches.map((b) => b.bytes).sort((a, b) => a - b)[batches.length >> 1],
    },
  };
}

if (process.env.KP_NFT_STAGE_IN_NAMESPACE) {
  console.log(JSON.stringify(await namespaceRun(Number(process.env.KP_NFT_STAGE_IN_NAMESPACE))));
  process.exit(0);
}

const loadBefore = loadavg();
const rows: unknown[] = [];
for (const n of SIZES) {
  const ns = `na-nftstage-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1]!],
      {
        env: { ...process.env, KP_NFT_STAGE_IN_NAMESPACE: String(n) },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 26,
      },
    );
    if (r.status !== 0) throw new Error(`namespace run for ${n} Services failed (${r.status})`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    console.dir(rows.at(-1), { depth: 4 });
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'kube-proxy-nftables-stages.json'),
  `${JSON.stringify(
    {
      node: process.version,
      date: new Date().toISOString(),
      loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: loadavg().map((x) => round(x, 2)) },
      endpointsPerService: ENDPOINTS,
      sizes: rows,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${join(out, 'kube-proxy-nftables-stages.json')}`);
