/**
 * kube-proxy's event loop at scale (issue #85: delay max ≤ 100 ms at 250k endpoints, full
 * resyncs and relists included). The nodeagent-kube-proxy single executable as its own process in
 * a throwaway network namespace (nftables mode unless KP_LOOP_MODE says iptables; as the scale
 * bench starts it), against the in-process API server of @nodeagent/testing, for 5,000 Services
 * × 50 endpoints. A preload
 * (bench/loop-samples.ts) notes every 10 ms how late the main thread's timer fired and how much
 * of that gap the thread ran on a core, so a stall reads as the daemon's own work or a wait for a
 * core on a loaded machine. Phases, each reported apart:
 * - `start`: exec → the first sync done (its CPU seconds, working set from its memory cgroup);
 * - `churn`: 10 endpoint changes a second (the soak's rate), steady;
 * - `relistStream`: every watch broken and the server's history gone, so every informer reads
 *   the whole collection again through a watch-list stream (the server's WatchList gate on);
 * - `relistList`: the same with the gate off: the informers LIST;
 * - `retryFullSync`: the daemon's table deleted behind its back, so the next sync (a diff) fails
 *   and the retry one syncPeriod (30 s) later replaces the whole table, as a periodic full
 *   resync (hourly, kube-proxy's FullSyncPeriod) does;
 * churn goes on through all but `start`. KP_LOOP_CPU_PROF=1 runs the daemon with --cpu-prof and
 * names the functions of each phase's longest task (the profile's samples in that gap) and of the
 * longest stretches without an idle sample (bench/loop-profile.ts; the profiler's own cost is in
 * that run's figures). Results: bench-results/kube-proxy-loop.json (or
 * kube-proxy-loop-cpu-prof.json; KP_LOOP_OUT another name).
 *
 * Environment: KP_LOOP_SHAPE (`<services>x<endpoints>`, default 5000x50), KP_LOOP_BINARY (this
 * executable instead of building one), KP_LOOP_CHURN_MS (the churn phase, default 30000),
 * KP_LOOP_RELIST_MS (each relist phase, default 30000), KP_LOOP_TIMEOUT_MS (first sync, default
 * 600000), KP_LOOP_MODE (nftables, the default, or iptables: no retryFullSync phase),
 * KP_LOOP_INITIAL=list (the start's reads as LISTs: the server's WatchList gate off until the
 * first sync), KP_LOOP_KEEP (copy the raw ticks and profile into this directory). Needs root (network
 * namespaces).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiServer, cleanupStaleNetns, createNetns, startApiServer } from '@nodeagent/testing';
import { listenInNetns } from '@nodeagent/testing/netns';
import {
  type BusyStretch,
  busyStretches,
  profileInDir,
  profileWindow,
  type SampleTime,
} from './loop-profile';
import { LOOP_SAMPLE_PRELOAD, type PhaseLoop, parseTicks, phaseLoop } from './loop-samples';
import { wallMinusMonotonicMs } from './monotonic-clock';
import { BENCH_NAMESPACE, moveEndpoint, podIP, populateCluster } from './scale-cluster';
import { API_PORT, cgroupMiB, cpuSeconds, METRICS_PORT, startDaemon } from './scale-daemon';
import { metricValue, ScaleProbe } from './scale-probe';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LAST_TS = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
const FULL_COUNT = 'kubeproxy_sync_full_proxy_rules_duration_seconds_count';
const FULL_SUM = 'kubeproxy_sync_full_proxy_rules_duration_seconds_sum';
const FAILURES = 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total';
/** The soak's rate of endpoint changes. */
const CHURN_EVERY_MS = 100;
/** After a phase's last event, how long its window stays open for what follows from it. */
const SETTLE_MS = 5000;
/** After the last phase, idle, before the late memory reading. */
const LATE_MS = 20_000;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: "${raw}" is not a whole number`);
  return n;
}

function shape(): { services: number; endpoints: number } {
  const text = process.env.KP_LOOP_SHAPE ?? '5000x50';
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`KP_LOOP_SHAPE: "${text}" is not <services>x<endpoints>`);
  return { services: Number(m[1]), endpoints: Number(m[2]) };
}

/** Endpoint changes every CHURN_EVERY_MS until stopped, round the Services. */
function startChurn(api: ApiServer, services: number, endpoints: number): () => number {
  let change = 0;
  const timer = setInterval(() => {
    moveEndpoint(api, (change * 7919) % services, endpoints, podIP(services * endpoints + change));
    change++;
  }, CHURN_EVERY_MS);
  return () => {
    clearInterval(timer);
    return change;
  };
}

interface Phase {
  name: string;
  from: number;
  to: number;
  /** What the phase saw of the daemon's syncs (full ones, failures). */
  notes?: Record<string, unknown>;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root: runs kube-proxy in a network namespace');
  const { services, endpoints } = shape();
  const churnMs = envNumber('KP_LOOP_CHURN_MS', 30_000);
  const relistMs = envNumber('KP_LOOP_RELIST_MS', 30_000);
  const timeoutMs = envNumber('KP_LOOP_TIMEOUT_MS', 600_000);
  const cpuProfile = process.env.KP_LOOP_CPU_PROF === '1';
  const mode = process.env.KP_LOOP_MODE ?? 'nftables';
  // KP_LOOP_INITIAL=list: the server's WatchList gate off at start, so the first reads are LISTs.
  const initialList = process.env.KP_LOOP_INITIAL === 'list';
  if (mode !== 'nftables' && mode !== 'iptables')
    throw new Error(`KP_LOOP_MODE: "${mode}" is not nftables or iptables`);
  await cleanupStaleNetns();
  const dir = mkdtempSync(join(tmpdir(), `na-kp-loop-${process.pid}-`));
  const served = { sliceRequests: 0, streamedObjects: 0 };
  const api = await startApiServer({
    audit: (_user, method, path) => {
      if (method === 'GET' && path.endsWith('/endpointslices')) served.sliceRequests++;
    },
  });
  api.watchStreams.onInitialEventsSent = (sent) => {
    served.streamedObjects += sent.events;
  };
  const ns = await createNetns({ purpose: 'kploop' });
  const onSignal = () => void ns.delete().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let binary = process.env.KP_LOOP_BINARY;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as {
        buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]>;
      };
      binary = (await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kube-proxy'] }))[0]
        ?.path as string;
    }
    populateCluster(api, services, endpoints);
    const listener = await listenInNetns(ns, API_PORT);
    api.serve(listener);
    const probe = await ScaleProbe.start(ns, API_PORT, METRICS_PORT);
    const samples = join(dir, 'loop-samples.txt');
    const preload = join(dir, 'loop-samples.cjs');
    writeFileSync(preload, LOOP_SAMPLE_PRELOAD);
    const profDir = join(dir, 'cpu-prof');
    mkdirSync(profDir, { recursive: true });
    const loadAverage = Math.round((loadavg()[0] ?? 0) * 10) / 10;
    api.watchStreams.watchList = !initialList;
    const daemon = startDaemon(ns, {
      binary,
      mode,
      dir,
      nodeOptions: [`--require ${preload}`, cpuProfile ? `--cpu-prof --cpu-prof-dir=${profDir}` : '']
        .filter(Boolean)
        .join(' '),
      env: { KP_LOOP_SAMPLES: samples },
    });
    const phases: Phase[] = [];
    const result: Record<string, unknown> = {};
    let stopChurn: (() => number) | undefined;
    try {
      // start: exec → the first sync done.
      const seen = await Promise.race([daemon.exited, probe.waitSync(0, 500, timeoutMs, true)]);
      if (!seen.text || seen.failed) throw new Error(`no first sync:\n${daemon.log()}`);
      const firstDone = (metricValue(seen.text, LAST_TS) as number) * 1000;
      result.start = {
        execToFirstSyncDoneMs: Math.round(firstDone - daemon.execAt),
        firstSyncOwnMs: Math.round((metricValue(seen.text, FULL_SUM) ?? Number.NaN) * 1000),
        cpuSecondsToFirstSync: cpuSeconds(daemon.pid),
        cgroupMiBAfterFirstSync: (await cgroupMiB(daemon.pid)) ?? null,
      };
      await sleep(SETTLE_MS);
      phases.push({ name: 'start', from: daemon.execAt, to: Date.now() });

      api.watchStreams.watchList = true;
      // churn: the soak's endpoint changes, steady.
      stopChurn = startChurn(api, services, endpoints);
      let from = Date.now();
      await sleep(churnMs);
      phases.push({ name: 'churn', from, to: Date.now() });

      // relists: watches broken, history gone; through a stream, then through LISTs.
      for (const [name, watchList] of [
        ['relistStream', true],
        ['relistList', false],
      ] as const) {
        api.watchStreams.watchList = watchList;
        from = Date.now();
        const before = { ...served };
        // A write the daemon does not watch first: every informer's resourceVersion is then older
        // than the compacted history (one that is current may go on watching, as from a real
        // API server, where other writes move the revision on between a restart and the watch).
        api.registry.create(api.resource('v1', 'configmaps'), BENCH_NAMESPACE, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `relist-${name.toLowerCase()}`, namespace: BENCH_NAMESPACE },
          data: {},
        });
        api.faults.compactHistory();
        api.faults.dropWatches();
        await sleep(relistMs);
        phases.push({
          name,
          from,
          to: Date.now(),
          // What the server served meanwhile: the relists' requests and streamed objects.
          notes: {
            sliceRequests: served.sliceRequests - before.sliceRequests,
            streamedObjects: served.streamedObjects - before.streamedObjects,
          },
        });
      }
      api.watchStreams.watchList = true;

      // retryFullSync (nftables): the table deleted; the next diff fails; the retry replaces the table.
      if (mode === 'nftables') await retryFullSync();
      result.changesWritten = stopChurn();
      stopChurn = undefined;
      result.cpuSecondsTotal = cpuSeconds(daemon.pid);
      result.cgroupMiBEnd = (await cgroupMiB(daemon.pid)) ?? null;
      // Churn stopped, idle: what the last phases' garbage left once collected.
      await sleep(LATE_MS);
      result.cgroupMiBIdleLate = (await cgroupMiB(daemon.pid)) ?? null;
    } finally {
      stopChurn?.();
      await daemon.stop();
      probe.close();
      listener.close();
    }
    async function retryFullSync(): Promise<void> {
      const before = await probe.scrape();
      const fullBefore = metricValue(before, FULL_COUNT) ?? 0;
      const from = Date.now();
      await ns.exec('nft', ['delete', 'table', 'ip', 'kube-proxy']);
      const deadline = Date.now() + 180_000;
      let full = fullBefore;
      let text = before;
      while (full === fullBefore && Date.now() < deadline) {
        await sleep(1000);
        text = await probe.scrape();
        full = metricValue(text, FULL_COUNT) ?? full;
      }
      await sleep(SETTLE_MS);
      phases.push({
        name: 'retryFullSync',
        from,
        to: Date.now(),
        notes: {
          fullSyncs: full - fullBefore,
          failures: metricValue(text, FAILURES) ?? 0,
          fullSyncOwnMs: Math.round(
            ((metricValue(text, FULL_SUM) ?? 0) - (metricValue(before, FULL_SUM) ?? 0)) * 1000,
          ),
        },
      });
    }
    const ticks = parseTicks(readFileSync(samples, 'utf8'));
    const byPhase: Record<
      string,
      PhaseLoop & { notes?: Record<string, unknown>; longestTaskProfile?: SampleTime }
    > = {};
    for (const p of phases)
      byPhase[p.name] = { ...phaseLoop(ticks, p.from, p.to), ...(p.notes ? { notes: p.notes } : {}) };
    let stretches: (BusyStretch & { at: string })[] | undefined;
    const profile = cpuProfile ? profileInDir(profDir) : undefined;
    if (profile) {
      const offset = wallMinusMonotonicMs();
      // Each phase's longest task, named: the profile's samples in that gap of the ticks.
      for (const loop of Object.values(byPhase)) {
        const gap = loop.longestTaskGap;
        if (gap)
          loop.longestTaskProfile = profileWindow(profile, gap.endAt - gap.ms - offset, gap.endAt - offset);
      }
      stretches = busyStretches(profile, 3).map((s) => ({
        at: new Date(s.startMonotonicMs + offset).toISOString(),
        ...s,
      }));
    }
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.KP_LOOP_BINARY ?? 'nodeagent-kube-proxy single executable, built by this run',
      mode,
      initialReads: initialList ? 'LIST' : 'watch-list stream',
      services,
      endpointsPerService: endpoints,
      endpoints: services * endpoints,
      loadAverage,
      cpuProfile,
      ...result,
      phases: byPhase,
      overall: phaseLoop(ticks, 0, Number.POSITIVE_INFINITY),
      ...(stretches ? { longestBusyStretches: stretches } : {}),
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    const name =
      process.env.KP_LOOP_OUT ?? (cpuProfile ? 'kube-proxy-loop-cpu-prof.json' : 'kube-proxy-loop.json');
    writeFileSync(join(repoRoot, 'bench-results', name), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await api.close();
    await ns.delete();
    // KP_LOOP_KEEP=<dir>: the raw ticks and the profile, for a closer look.
    const keep = process.env.KP_LOOP_KEEP;
    if (keep) cpSync(dir, keep, { recursive: true, filter: (f) => !f.includes('/bin') });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
