// kube-proxy nftables-mode benchmarks (Services = ClusterIP, one TCP port, 10 ready endpoints):
// full build at 1k/10k/30k, a full sync in a throwaway network namespace (build vs nft share),
// and network programming latency (one EndpointSlice change until the kernel holds it) at 1k
// and 10k. Baselines run in the same process: a full rebuild of the ruleset for the build, and
// a full-table `nft -f` per change for the latency. The namespace part runs once per back end
// (KP_NFT_BACKENDS, default `nft,netlink`): the `nft` binary (full syncs piped to `nft -f -`, whose
// apply time is the plain `nft -f` floor; diffs through `nft -i`) and @nodeagent/netlink's
// NetlinkNftablesClient (no nft process: every sync is one nf_tables batch over netlink).
// Run: npm run bench:nftables -w @nodeagent/kube-proxy  (root needed for the namespace parts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { NetlinkNftablesClient, renderScript } from '@nodeagent/netfilter/nftables';
import { Bench } from 'tinybench';
import { ProxyState, snapshotFromObjects } from '../src/index';
import {
  execNftables,
  NFTABLES_TABLE,
  NftablesProxier,
  NftablesRuleset,
  nftLocalDetector,
  type ProxierNftables,
} from '../src/nftables/index';
import { benchCluster, benchSlice, clusterIP } from './bench-cluster';

const BUILD_SIZES = (process.env.KP_NFT_BUILD_SIZES ?? '1000,10000,30000')
  .split(',')
  .map(Number)
  .filter((x) => x > 0);
const SYNC_SIZES = (process.env.KP_NFT_SYNC_SIZES ?? '1000,10000')
  .split(',')
  .map(Number)
  .filter((x) => x > 0);
const CHANGES = Number(process.env.KP_NFT_CHANGES ?? 100);
const BACKENDS = (process.env.KP_NFT_BACKENDS ?? 'nft,netlink')
  .split(',')
  .filter((b) => b === 'nft' || b === 'netlink');
/** Full-table applies per size for the latency baseline (each costs seconds at 10k). */
const BASELINE_CHANGES = Number(process.env.KP_NFT_BASELINE_CHANGES ?? 5);
const ENDPOINTS = 10;
const NODE = 'node-a';
const backend = { localDetector: nftLocalDetector({ cidr: '10.128.0.0/9', ipv6: false }) };
const out = join(import.meta.dirname, '..', '..', '..', 'bench-results');

/**
 * Generation 0 is the initial slice; each later one moves the last endpoint to one of five
 * other addresses (never back to the initial one, which would be no change at all: the old
 * `generation % 6` made every sixth "change" a no-op that never reached nft).
 */
const sliceFor = (i: number, generation: number) =>
  benchSlice(i, ENDPOINTS, (e) => (e === ENDPOINTS - 1 && generation > 0 ? 1 + ((generation - 1) % 5) : 0));
const cluster = (n: number) => benchCluster(n, ENDPOINTS);

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50Ms: round(percentile(s, 50)), p99Ms: round(percentile(s, 99)), maxMs: round(s.at(-1)!) };
}

function fullScript(n: number): { script: string; buildMs: number } {
  const c = cluster(n);
  const t = performance.now();
  const ruleset = new NftablesRuleset('IPv4', backend);
  ruleset.update(
    snapshotFromObjects({ family: 'IPv4', nodeName: NODE, services: c.services, endpointSlices: c.slices }),
  );
  const script = renderScript('ip', NFTABLES_TABLE, ruleset.fullTransaction(), { emulateDestroy: false });
  return { script, buildMs: performance.now() - t };
}

// --- 1. build: full build vs one incremental Service change, same process ---
async function buildBench() {
  const rows: Record<string, unknown>[] = [];
  for (const n of BUILD_SIZES) {
    const c = cluster(n);
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: NODE,
      services: c.services,
      endpointSlices: c.slices,
    });
    // One long-lived ruleset that takes a one-slice change per iteration, as the proxier does.
    const live = new NftablesRuleset('IPv4', backend);
    const state = { gen: 0 };
    live.update(snapshot);
    live.commit();
    const liveState = snapshotState(c);
    const bench = new Bench({ iterations: n >= 30_000 ? 2 : 3, time: 0, warmupIterations: 1 });
    bench
      .add(`full build+render ${n}`, () => {
        const r = new NftablesRuleset('IPv4', backend);
        r.update(snapshot);
        renderScript('ip', NFTABLES_TABLE, r.fullTransaction(), { emulateDestroy: false });
      })
      .add(`incremental build+render ${n} (1 slice changed)`, () => {
        state.gen++;
        liveState.onEndpointSlice(sliceFor(state.gen % n, state.gen), false);
        live.update(liveState.snapshot());
        renderScript('ip', NFTABLES_TABLE, live.diffTransaction()!, { emulateDestroy: false });
        live.commit();
      });
    await bench.run();
    const [full, inc] = bench.tasks.map((t) => t.result!);
    const fullMs = (full as { latency: { mean: number } }).latency.mean;
    const incMs = (inc as { latency: { mean: number } }).latency.mean;
    rows.push({
      services: n,
      fullBuildRenderMs: round(fullMs),
      incrementalOneChangeMs: round(incMs, 2),
      ratioIncrementalToFull: round(incMs / fullMs, 5),
    });
    console.log(rows.at(-1));
  }
  return rows;
}

/** A ProxyState holding the cluster, for incremental snapshots. */
function snapshotState(c: ReturnType<typeof cluster>) {
  const s = new ProxyState('IPv4', NODE);
  for (const svc of c.services) s.onService(undefined, svc);
  for (const sl of c.slices) s.onEndpointSlice(sl, false);
  s.snapshot();
  return s;
}

// --- 2 & 3. full sync and programming latency in a namespace ---
// The namespace part runs in a child process started inside the namespace (`ip netns exec`),
// as kube-proxy runs in the node's namespace: every nft it starts is a plain `nft`, with no
// per-change `ip netns exec` (a few ms of its own) inflating either path.
/**
 * CPU milliseconds of this process and its reaped children (the nft processes): a measure the
 * shared machine's load inflates far less than wall-clock time. Kernel work of a netlink batch
 * runs in this process's sendmsg and counts as its system time; nft's in nft's.
 */
function cpuMs(): number {
  const own = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime), in clock ticks of 10 ms.
  const childTicks = Number(fields[13]) + Number(fields[14]);
  return (own.user + own.system) / 1000 + childTicks * 10;
}

function nsName(purpose: string) {
  return `na-${purpose}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function nft(args: string[], input?: string): string {
  const r = spawnSync('nft', args, { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs in the namespace: full sync, then CHANGES one-slice changes per apply path, interleaved. */
async function namespaceRun(n: number, backendKind: string) {
  // Full sync through the proxier: build (snapshot → ruleset → script) and nft apply, timed apart.
  let applyMs = 0;
  const netlink = backendKind === 'netlink';
  const exec: ProxierNftables = netlink
    ? new NetlinkNftablesClient({ family: 'ip', table: NFTABLES_TABLE })
    : execNftables({ family: 'ip' });
  // Diffs alternate between the long-lived `nft -i` session and one `nft -f -` process each
  // (the path before the session): same table, same process, same load.
  const via = { session: true, full: true, diffs: 0, committed: undefined as (() => void) | undefined };
  const timed: ProxierNftables = {
    family: exec.family,
    table: exec.table,
    newTransaction: () => exec.newTransaction(),
    check: (tx) => exec.check(tx),
    list: () => exec.list(),
    close: () => exec.close?.() ?? Promise.resolve(),
    // Netlink has no script path: its full syncs are runTable (the table's elements as text).
    ...(exec.runTable
      ? {
          runTable: async (table) => {
            const t = performance.now();
            await exec.runTable?.(table);
            applyMs += performance.now() - t;
          },
        }
      : {}),
    ...(exec.runScript
      ? {
          runScript: async (script: string) => {
            const t = performance.now();
            await exec.runScript?.(script);
            applyMs += performance.now() - t;
          },
        }
      : {}),
    run: async (tx) => {
      const t = performance.now();
      try {
        await (via.session || netlink
          ? exec.run(tx)
          : exec.runScript!(renderScript('ip', NFTABLES_TABLE, tx, { emulateDestroy: false })));
        if (via.full) applyMs += performance.now() - t;
        else via.diffs++;
      } finally {
        if (!via.full) via.committed?.(); // the kernel holds the change from here on (or it failed)
      }
    },
  };
  // minSyncPeriod 0: every change syncs at once, as one arriving more than minSyncPeriod after
  // the previous sync does; the latency path then includes the BoundedFrequencyRunner.
  const proxier = new NftablesProxier({
    family: 'IPv4',
    nodeName: NODE,
    nftables: timed,
    backend,
    minSyncPeriodMs: 0,
    syncPeriodMs: 3_600_000,
  });
  try {
    const c = cluster(n);
    for (const s of c.services) proxier.onServiceAdd(s);
    for (const s of c.slices) proxier.onEndpointSliceAdd(s);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    const t0 = performance.now();
    const cpu0 = cpuMs();
    const first = await proxier.syncProxyRules();
    const totalMs = performance.now() - t0;
    const totalCpuMs = cpuMs() - cpu0;
    if (!first?.ok || first.kind !== 'full') throw new Error(`full sync failed: ${String(first?.error)}`);
    via.full = false;
    const fullSync = {
      backend: backendKind,
      services: n,
      totalMs: round(totalMs),
      // CPU of the whole sync, this process and nft together (see cpuMs).
      totalCpuMs: round(totalCpuMs),
      buildMs: round(totalMs - applyMs),
      nftMs: round(applyMs),
      nftShare: round(applyMs / totalMs, 3),
      scriptBytes: proxier.lastScriptBytes,
    };
    console.error(fullSync);

    // Programming latency: one slice update event → change tracker → runner → proxier sync →
    // nft has committed the change (the kernel holds it once nft answers: `nft -f` exits 0, or
    // the session's marker comes back); the executor wrapper marks that moment, no polling.
    // Each change moves a different Service, so one read of the kernel's endpoint map
    // afterwards shows whether every change landed; that read dumps the whole map and is
    // timed apart.
    // Start the sync loop; its first run finds nothing to change (no nft run). The runner's
    // timers and the nft session do not keep a process alive (a daemon has its informers for
    // that): this interval does, while the bench waits on them.
    const keepAlive = setInterval(() => {}, 60_000);
    proxier.start();
    while (proxier.history.length < 2) await new Promise((r) => setTimeout(r, 5));
    await proxier.whenIdle();
    const samples = { session: [] as number[], spawn: [] as number[] };
    const cpu: number[] = [];
    const diffBytes: number[] = [];
    const expected: [string, string][] = [];
    // nft: changes alternate between the `nft -i` session and one `nft -f -` each; netlink: all one path.
    const rounds = netlink ? CHANGES : 2 * CHANGES;
    for (let k = 1; k <= rounds; k++) {
      via.session = netlink || k % 2 === 0;
      const i = (k * 7919) % n; // 7919 is prime: distinct Services for k < n
      const next = sliceFor(i, k);
      const t = performance.now();
      const c0 = process.cpuUsage();
      const committed = new Promise<void>((resolve) => {
        via.committed = resolve;
      });
      // The informer's event: the proxier's runner schedules the sync.
      proxier.onEndpointSliceUpdate(sliceFor(i, 0), next);
      const timeout = setTimeout(() => via.committed?.(), 30_000);
      await committed;
      clearTimeout(timeout);
      (via.session ? samples.session : samples.spawn).push(performance.now() - t);
      await proxier.whenIdle();
      const c1 = process.cpuUsage(c0);
      cpu.push((c1.user + c1.system) / 1000);
      const r = proxier.history.at(-1);
      if (via.diffs !== k || !r?.ok || r.kind !== 'partial')
        throw new Error(`sync ${k} failed: ${String(r?.error)}`);
      diffBytes.push(proxier.lastScriptBytes);
      expected.push([clusterIP(i), next.endpoints.at(-1)!.addresses[0]!]);
    }
    clearInterval(keepAlive);
    const r0 = performance.now();
    const listing = nft(['list', 'map', 'ip', NFTABLES_TABLE, 'service-cluster-endpoints']);
    const readMs = performance.now() - r0;
    const missing = expected.filter(
      ([vip, ep]) => !new RegExp(`${vip} \\. tcp \\. 80 \\. \\d+ : ${ep} \\. 8080`).test(listing),
    );
    if (missing.length > 0) throw new Error(`kernel lacks ${missing.length} changes, e.g. ${missing[0]}`);
    // Baseline: the same change applied as a full-table `nft -f` (what a rebuild-everything
    // proxier pays per change), measured on the same table in the same process.
    const base: number[] = [];
    const script = netlink ? '' : fullScript(n).script;
    for (let k = 0; k < (netlink ? 0 : BASELINE_CHANGES); k++) {
      const t = performance.now();
      nft(['-f', '-'], script);
      base.push(performance.now() - t);
    }
    const s = stats(samples.session);
    if (netlink) {
      const latency = {
        backend: backendKind,
        services: n,
        changes: CHANGES,
        ...s,
        proxierCpu: stats(cpu),
        verifiedInKernel: expected.length,
        kernelReadMs: round(readMs),
      };
      console.error(latency);
      return { fullSync, latency };
    }
    const sp = stats(samples.spawn);
    const b = stats(base);
    const latency = {
      backend: backendKind,
      services: n,
      changes: CHANGES,
      ...s,
      // The same kind of change applied by one `nft -f -` process per sync, interleaved.
      spawnPerChange: sp,
      ratioP99ToSpawnPerChangeP99: round(s.p99Ms / sp.p99Ms, 3),
      // CPU time of this process per sync (event, snapshot, diff, render; nft runs apart).
      proxierCpu: stats(cpu),
      verifiedInKernel: expected.length,
      kernelReadMs: round(readMs),
      diffScriptBytesMedian: [...diffBytes].sort((a, b2) => a - b2)[diffBytes.length >> 1],
      baselineFullNftApply: { runs: BASELINE_CHANGES, ...b },
      ratioP50ToBaselineP50: round(s.p50Ms / b.p50Ms, 4),
    };
    console.error(latency);
    return { fullSync, latency };
  } finally {
    await proxier.stop();
  }
}

async function namespaceBench() {
  const fullSync: Record<string, unknown>[] = [];
  const latency: Record<string, unknown>[] = [];
  for (const n of SYNC_SIZES)
    for (const backendKind of BACKENDS) {
      const ns = nsName('nftbench');
      execFileSync('ip', ['netns', 'add', ns]);
      try {
        const r = spawnSync(
          'ip',
          ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1]!],
          {
            env: { ...process.env, KP_NFT_IN_NAMESPACE: String(n), KP_NFT_BACKEND: backendKind },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        if (r.status !== 0)
          throw new Error(`namespace run (${backendKind}) for ${n} Services failed (${r.status})`);
        const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
        fullSync.push(out.fullSync);
        latency.push(out.latency);
      } finally {
        execFileSync('ip', ['netns', 'del', ns]);
      }
    }
  return { fullSync, latency };
}

if (process.env.KP_NFT_IN_NAMESPACE) {
  console.log(
    JSON.stringify(
      await namespaceRun(Number(process.env.KP_NFT_IN_NAMESPACE), process.env.KP_NFT_BACKEND ?? 'nft'),
    ),
  );
  process.exit(0);
}

// The machine is shared: wall-clock numbers scale with its load, so record it.
const loadBefore = loadavg();
const build = await buildBench();
const inNamespace = await namespaceBench();
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'kube-proxy-nftables.json'),
  `${JSON.stringify(
    {
      node: process.version,
      loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: loadavg().map((x) => round(x, 2)) },
      endpointsPerService: ENDPOINTS,
      build,
      fullSyncInNamespace: inNamespace.fullSync,
      programmingLatency: inNamespace.latency,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${join(out, 'kube-proxy-nftables.json')}`);
