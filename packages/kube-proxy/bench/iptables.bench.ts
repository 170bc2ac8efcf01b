// kube-proxy iptables-mode benchmarks (each Service: ClusterIP, one TCP port, one EndpointSlice
// with 10 ready endpoints), every number with a baseline measured in the same process:
//  1. rule generation through IptablesRuleCache: a full render, and a partial one with one
//     changed Service;
//  2. first full sync through IptablesProxier into an empty network namespace, three ways (the
//     previous code: every comment, render then restore; + upstream's large cluster mode; + the
//     payload streamed into iptables-restore while rendering), against plain `iptables-restore`
//     of the new payload (the floor) and of the previous payload (with comments);
//  3. network programming latency: one EndpointSlice change → rules in the kernel, against a
//     full sync per change (list the kernel, render everything, restore);
//  4. the apply options: back end (nft / legacy), --noflush or not, widened nft cache, and a
//     small partial payload on top of the full table.
// Writes bench-results/kube-proxy-iptables.json. Needs root for 2–4 (namespaces only).
// Run: npm run bench -w @nodeagent/kube-proxy
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { widenNftCache } from '@nodeagent/netfilter/iptables';
import { Bench } from 'tinybench';
import { ProxyState, snapshotFromObjects } from '../src/index';
import {
  cidrLocalDetector,
  execIptables,
  type IptablesBackendOptions,
  type IptablesExecutor,
  IptablesProxier,
  IptablesRuleCache,
  renderIptablesRuleset,
} from '../src/iptables/index';
import { benchCluster, benchSlice } from './bench-cluster';

const SIZES = (process.env.KP_BENCH_SIZES ?? '1000,10000').split(',').map(Number);
/** Changes timed per size for programming latency (10k syncs are slower: fewer by default). */
const CHANGES: Record<number, number> = {
  1000: 100,
  10000: Number(process.env.KP_BENCH_10K_CHANGES ?? 40),
  30000: 10,
};
/** Plain `--noflush` (no widened cache) on iptables-nft grows superlinearly: > 240 s at 10k. */
const NOFLUSH_MAX = Number(process.env.KP_BENCH_NOFLUSH_MAX ?? 1000);
/** Apply-option matrix sizes (legacy and flush variants at 10k take ~10 s each). */
const APPLY_SIZES = (process.env.KP_BENCH_APPLY_SIZES ?? '1000').split(',').map(Number);
const ENDPOINTS = 10;
const out = join(import.meta.dirname, '..', '..', '..', 'bench-results');
const detector = cidrLocalDetector('10.128.0.0/9');
const backendOptions = { localDetector: detector };

/** Odd generations shift the backends by 5 (5 endpoints change). */
const sliceFor = (i: number, generation: number) => benchSlice(i, ENDPOINTS, () => (generation % 2 ? 5 : 0));
const cluster = (n: number) => benchCluster(n, ENDPOINTS);

const round = (x: number, d = 1) => Number(x.toFixed(d));

/**
 * CPU ms (user + system) of this process and of its waited-for children (iptables-restore runs
 * as `ip netns exec` → exec, so it is one), from /proc/self/stat at 100 ticks/s. On the shared
 * machine wall-clock times scale with the load average; CPU times much less.
 */
function cpuMs(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const u = process.cpuUsage();
  // Fields 16 and 17 (cutime, cstime) are at 13 and 14 counting from field 3.
  return { self: (u.user + u.system) / 1000, children: (Number(f[13]) + Number(f[14])) * 10 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function meanMs(bench: Bench, name: string): number {
  const t = bench.tasks.find((x) => x.name === name)!;
  return (t.result as unknown as { latency: { mean: number } }).latency.mean;
}

/** A throwaway namespace per measurement, deleted even on failure. */
function withNamespace<T>(purpose: string, fn: (prefix: string[]) => Promise<T>): Promise<T> {
  const ns = `na-${purpose}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', ns]);
  return fn(['ip', 'netns', 'exec', ns]).finally(() => execFileSync('ip', ['netns', 'del', ns]));
}

/** Runs one command with `input` on stdin; wall ms, and its CPU ms in `lastRunCpuMs`. */
let lastRunCpuMs = 0;
function timedRun(prefix: readonly string[], argv: readonly string[], input: string): number {
  const c0 = cpuMs().children;
  const t0 = performance.now();
  execFileSync(prefix[0]!, [...prefix.slice(1), ...argv], {
    input,
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const wall = performance.now() - t0;
  lastRunCpuMs = cpuMs().children - c0;
  return wall;
}

/** Wraps an executor to time its restores (plain and streamed); `stream: false` drops restoreStream. */
function timedExecutor(inner: IptablesExecutor, stream = true) {
  const t = { restoreMs: 0 };
  const timed =
    <A extends unknown[]>(fn: (...a: A) => Promise<void>) =>
    async (...a: A) => {
      const t0 = performance.now();
      try {
        await fn(...a);
      } finally {
        t.restoreMs += performance.now() - t0;
      }
    };
  const exec: IptablesExecutor = {
    ...inner,
    restore: timed(inner.restore.bind(inner)),
    restoreStream: stream && inner.restoreStream ? timed(inner.restoreStream.bind(inner)) : undefined,
  };
  return { exec, t };
}

function proxierFor(exec: IptablesExecutor, n: number, extra: IptablesBackendOptions = {}): IptablesProxier {
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-0',
    executor: exec,
    backend: { ...backendOptions, ...extra },
    minSyncPeriodMs: 0,
    syncPeriodMs: 3_600_000,
  });
  const { services, slices } = cluster(n);
  for (const s of services) proxier.onServiceAdd(s);
  for (const s of slices) proxier.onEndpointSliceAdd(s);
  proxier.onServicesSynced();
  proxier.onEndpointSlicesSynced();
  return proxier;
}

async function generation(results: Record<string, unknown>): Promise<void> {
  const bench = new Bench({ iterations: 5, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const n of SIZES) {
    const { services, slices } = cluster(n);
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-0',
      services,
      endpointSlices: slices,
    });
    bench.add(`full ${n}`, () => {
      new IptablesRuleCache(backendOptions).prepare(snapshot, { full: true, existingNatChains: [] });
    });
    // A live state: each iteration changes one Service's slice and prepares + commits a partial sync.
    const state = new ProxyState('IPv4', 'node-0');
    for (const s of services) state.onService(undefined, s);
    for (const s of slices) state.onEndpointSlice(s, false);
    const cache = new IptablesRuleCache(backendOptions);
    cache.commit(cache.prepare(state.snapshot(), { full: true, existingNatChains: [] }));
    let k = 0;
    bench.add(`partial ${n} (1 changed)`, () => {
      k++;
      state.onEndpointSlice(sliceFor((k * 7919) % n, k), false);
      cache.commit(cache.prepare(state.snapshot(), { full: false }));
    });
  }
  await bench.run();
  results.generation = SIZES.map((n) => {
    const full = meanMs(bench, `full ${n}`);
    const partial = meanMs(bench, `partial ${n} (1 changed)`);
    return {
      services: n,
      fullBuildRenderMs: round(full),
      partialBuildRenderMs: round(partial, 3),
      ratioPartialToFull: round(partial / full, 4),
    };
  });
}

/**
 * The first full sync's variants, each into its own empty namespace: `previous` keeps every
 * comment and renders before restoring (the code before large cluster mode and streaming);
 * `largeClusterMode` drops the per-endpoint comments as upstream does; `streamed` also writes
 * the payload into iptables-restore while rendering (the default now).
 */
const FULL_SYNC_VARIANTS = [
  { name: 'previous', extra: { largeClusterEndpointsThreshold: Number.POSITIVE_INFINITY }, stream: false },
  { name: 'largeClusterMode', extra: {}, stream: false },
  { name: 'streamed', extra: {}, stream: true },
] as const;

/** Full-sync repetitions per variant (interleaved; the median is reported): fewer for huge clusters. */
const fullSyncReps = (n: number) => Number(process.env.KP_BENCH_FULL_REPS ?? (n <= 10_000 ? 3 : 1));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One first full sync of `n` Services into an empty namespace, the way `variant` does it. */
async function oneFullSync(n: number, variant: (typeof FULL_SYNC_VARIANTS)[number]) {
  return withNamespace('iptbench', async (prefix) => {
    const { exec, t } = timedExecutor(
      execIptables({ family: 'IPv4', commandPrefix: prefix }),
      variant.stream,
    );
    const proxier = proxierFor(exec, n, variant.extra);
    const c0 = cpuMs();
    const t0 = performance.now();
    const r = await proxier.syncProxyRules();
    const total = performance.now() - t0;
    const c1 = cpuMs();
    if (!r?.ok) throw new Error(`full sync failed: ${String(r?.error)}`);
    return {
      payload: proxier.lastPayload,
      row: {
        totalMs: round(total),
        // Streamed, rendering happens inside the restore; otherwise it overlaps the kernel read.
        outsideRestoreMs: round(total - t.restoreMs),
        restoreMs: round(t.restoreMs),
        proxierCpuMs: round(c1.self - c0.self),
        iptablesCpuMs: round(c1.children - c0.children),
        payloadBytes: proxier.lastPayload.length,
        natRules: proxier.lastSync?.ruleCounts.nat,
        largeClusterMode: proxier.lastSync?.largeClusterMode,
      },
    };
  });
}

async function fullSync(results: Record<string, unknown>): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const row: Record<string, unknown> = { services: n, repetitions: fullSyncReps(n) };
    const payloads: Record<string, string> = {};
    const runs: Record<string, { totalMs: number }[]> = {};
    for (let rep = 0; rep < fullSyncReps(n); rep++) {
      for (const v of FULL_SYNC_VARIANTS) {
        const { payload, row: r } = await oneFullSync(n, v);
        payloads[v.name] = payload;
        runs[v.name] = [...(runs[v.name] ?? []), r];
      }
    }
    for (const v of FULL_SYNC_VARIANTS) {
      const all = runs[v.name]!;
      const mid = all.find((r) => r.totalMs === median(all.map((x) => x.totalMs)))!;
      row[v.name] = { ...mid, allTotalMs: all.map((r) => r.totalMs) };
    }
    // The floors: plain iptables-restore (flushing the tables) of each payload into an empty
    // namespace, as often as the syncs ran, median.
    const plain = async (payload: string) => {
      const ms: number[] = [];
      const cpu: number[] = [];
      for (let rep = 0; rep < fullSyncReps(n); rep++) {
        ms.push(
          await withNamespace('iptbench', async (p) => timedRun(p, ['iptables-restore', '-w'], payload)),
        );
        cpu.push(lastRunCpuMs);
      }
      return { ms: round(median(ms)), cpuMs: round(median(cpu)) };
    };
    const floorNew = await plain(payloads.streamed!);
    const floorOld = await plain(payloads.previous!);
    const total = (name: string) => (row[name] as { totalMs: number }).totalMs;
    Object.assign(row, {
      baselinePlainRestoreNewPayloadMs: floorNew.ms,
      baselinePlainRestoreNewPayloadCpuMs: floorNew.cpuMs,
      baselinePlainRestoreOldPayloadMs: floorOld.ms,
      baselinePlainRestoreOldPayloadCpuMs: floorOld.cpuMs,
      ratioStreamedToPlainNew: round(total('streamed') / floorNew.ms, 2),
      ratioStreamedToPlainOld: round(total('streamed') / floorOld.ms, 2),
      ratioStreamedToPrevious: round(total('streamed') / total('previous'), 2),
      ratioLargeClusterModeToPrevious: round(total('largeClusterMode') / total('previous'), 2),
      ratioStreamedToLargeClusterMode: round(total('streamed') / total('largeClusterMode'), 2),
    });
    if (n <= NOFLUSH_MAX) {
      const upstream = await withNamespace('iptbench', async (p) =>
        timedRun(p, ['iptables-restore', '--noflush', '--counters', '-w'], payloads.streamed!),
      );
      row.baselineNoflushRestoreNewPayloadMs = round(upstream);
    }
    rows.push(row);
    process.stderr.write(`full sync ${n}: ${JSON.stringify(row)}\n`);
  }
  results.fullSyncInNamespace = rows;
}

async function latency(results: Record<string, unknown>): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const changes = CHANGES[n] ?? 20;
    await withNamespace('iptbench', async (prefix) => {
      const exec = execIptables({ family: 'IPv4', commandPrefix: prefix });
      const proxier = proxierFor(exec, n);
      const first = await proxier.syncProxyRules();
      if (!first?.ok) throw new Error(`full sync failed: ${String(first?.error)}`);
      const lat: number[] = [];
      const c0 = cpuMs();
      for (let k = 0; k < changes; k++) {
        const i = (k * 7919) % n;
        const t0 = performance.now();
        proxier.onEndpointSliceUpdate(sliceFor(i, 0), sliceFor(i, 1));
        const r = await proxier.syncProxyRules();
        if (!r?.ok || r.kind !== 'partial') throw new Error(`partial sync failed: ${String(r?.error)}`);
        lat.push(performance.now() - t0);
        if (k === 0) process.stderr.write(`partial payload ${n}: ${proxier.lastPayload.length} bytes\n`);
      }
      const c1 = cpuMs();
      lat.sort((a, b) => a - b);
      // Baseline, same namespace and kernel state: a full sync for each change (list the nat
      // table, render everything, restore), for a few changes.
      const state = new ProxyState('IPv4', 'node-0');
      const { services, slices } = cluster(n);
      for (const s of services) state.onService(undefined, s);
      for (const s of slices) state.onEndpointSlice(s, false);
      // …in the state the timed changes left the kernel in.
      for (let k = 0; k < changes; k++) state.onEndpointSlice(sliceFor((k * 7919) % n, 1), false);
      state.snapshot();
      const base: number[] = [];
      for (let k = 0; k < Math.min(changes, 10); k++) {
        const i = (k * 104_729 + 1) % n;
        const t0 = performance.now();
        state.onEndpointSlice(sliceFor(i, k + 1), false);
        const snapshot = state.snapshot();
        const existing = await exec.listChains('nat');
        await exec.restore(renderIptablesRuleset(snapshot, backendOptions, existing).payload);
        base.push(performance.now() - t0);
      }
      base.sort((a, b) => a - b);
      const row = {
        services: n,
        changes,
        p50Ms: round(percentile(lat, 50)),
        p99Ms: round(percentile(lat, 99)),
        maxMs: round(lat.at(-1)!),
        meanProxierCpuMsPerSync: round((c1.self - c0.self) / changes),
        meanIptablesCpuMsPerSync: round((c1.children - c0.children) / changes),
        baselineChanges: base.length,
        baselineFullSyncP50Ms: round(percentile(base, 50)),
        ratioP50ToBaseline: round(percentile(lat, 50) / percentile(base, 50), 3),
      };
      rows.push(row);
      process.stderr.write(`latency ${n}: ${JSON.stringify(row)}\n`);
    });
  }
  results.programmingLatency = rows;
}

/** The apply options measured on this kernel: which back end, which flags, which payload shape. */
async function applyOptions(results: Record<string, unknown>): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const n of APPLY_SIZES) {
    // A full payload and a one-Service partial payload, as the proxier writes them.
    const state = new ProxyState('IPv4', 'node-0');
    const { services, slices } = cluster(n);
    for (const s of services) state.onService(undefined, s);
    for (const s of slices) state.onEndpointSlice(s, false);
    const cache = new IptablesRuleCache(backendOptions);
    const full = cache.prepare(state.snapshot(), { full: true, existingNatChains: [] });
    cache.commit(full);
    state.onEndpointSlice(sliceFor(0, 1), false);
    const partial = cache.prepare(state.snapshot(), { full: false }).payload;
    const widened = widenNftCache(full.payload).payload;
    const row: Record<string, unknown> = { services: n, partialPayloadLines: partial.split('\n').length - 1 };
    const measure = async (
      name: string,
      bin: string,
      flags: string[],
      payload: string,
      thenPartial: boolean,
    ) =>
      withNamespace('iptbench', async (p) => {
        row[`${name}Ms`] = round(timedRun(p, [bin, ...flags], payload));
        if (thenPartial) {
          const times = [0, 1, 2].map(() => timedRun(p, [bin, '--noflush', '--counters', '-w'], partial));
          row[`${name}ThenPartialMs`] = round(Math.min(...times));
        }
      });
    await measure('nftFlush', 'iptables-nft-restore', ['-w'], full.payload, false);
    await measure(
      'nftNoflushWidened',
      'iptables-nft-restore',
      ['--noflush', '--counters', '-w'],
      widened,
      true,
    );
    if (n <= NOFLUSH_MAX)
      await measure(
        'nftNoflush',
        'iptables-nft-restore',
        ['--noflush', '--counters', '-w'],
        full.payload,
        false,
      );
    await measure('legacyFlush', 'iptables-legacy-restore', ['-w'], full.payload, false);
    await measure(
      'legacyNoflush',
      'iptables-legacy-restore',
      ['--noflush', '--counters', '-w'],
      full.payload,
      true,
    );
    rows.push(row);
    process.stderr.write(`apply options ${n}: ${JSON.stringify(row)}\n`);
  }
  results.applyOptions = rows;
}

function haveRootAndTools(): boolean {
  try {
    return process.getuid?.() === 0 && execFileSync('iptables-restore', ['--version']).length > 0;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    node: process.version,
    cpus: cpus().length,
    loadavgAtStart: loadavg().map((x) => round(x, 2)),
    endpointsPerService: ENDPOINTS,
    iptables: execFileSync('iptables', ['--version']).toString().trim(),
  };
  await generation(results);
  process.stderr.write(`generation: ${JSON.stringify(results.generation)}\n`);
  if (haveRootAndTools()) {
    await fullSync(results);
    await latency(results);
    await applyOptions(results);
  } else {
    results.namespaces = 'skipped: needs root and iptables-restore';
  }
  results.loadavgAtEnd = loadavg().map((x) => round(x, 2));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'kube-proxy-iptables.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

await main();
