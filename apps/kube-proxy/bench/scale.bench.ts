/**
 * kube-proxy at scale (issue #54): the nodeagent-kube-proxy single executable as its own process
 * in a throwaway network namespace, against the in-process API server of @nodeagent/testing over
 * HTTP (served straight into the namespace: `listenInNetns` and `ApiServer.serve`, no relay), for 5,000 Services × 50 endpoints (250k) and 44,000
 * Services × 1, in nftables and iptables mode. Per scenario: exec → first sync done (the lists
 * included; the end of the first sync as the daemon stamps it in
 * kubeproxy_sync_proxy_rules_last_timestamp_seconds), that sync's own duration (the full-sync
 * histogram), one endpoint change → rules in the kernel p50/p99 (the API write to the end of the
 * sync that wrote it; and from the change's watch event entering the daemon's namespace, the
 * daemon's own share), kernel rule and element counts, the working set and anon of its memory cgroup
 * (cgroupMiB) and RSS right after the first sync and steady; and in the same run the floors: a bare HTTP list of the same Services and
 * EndpointSlices (plain node:http GETs from inside the namespace, JSON.parse) and the kernel's own
 * tool loading the same rules (`nft -f` of `nft list ruleset`; `iptables-restore --noflush` of
 * `iptables-save`'s rules in the shape iptables-nft loads fastest, see
 * bench/iptables-floor-payload.ts) into the emptied namespace; in iptables mode also one
 * change's floor, `iptables-restore` of one rule appended to the table the daemon left (the
 * kernel validates the whole table at such a commit, see changeFloorMs in scale-kernel.ts).
 * Results: bench-results/kube-proxy-scale.json.
 *
 * Environment: KP_SCALE_SCENARIOS (`<mode>:<services>x<endpoints>[:stream|:list],...`, default
 * "nftables:5000x50,iptables:5000x50,nftables:44000x1,iptables:44000x1"; `:list` turns the
 * server's WatchList feature gate off for that scenario, so the daemon LISTs, default `:stream`;
 * scenarios of one shape share one server, in the order given), KP_SCALE_CHANGES
 * (endpoint changes per scenario, default 100), KP_SCALE_STEADY_MS (idle time before the steady
 * RSS, default 10000), KP_SCALE_STEADY_LATE_MS (idle time after that before a second reading,
 * `rssMB.steadyLate`: what the idle daemon's periodic collection gave back; default 0, none), KP_SCALE_TIMEOUT_MS (for the first sync, default 600000),
 * KP_SCALE_FLOOR_RUNS (loads of the floor's ruleset, the fastest counts; default 2),
 * KP_SCALE_KERNEL=0 (no kernel rule count, dump or `nft -f` floor: start-up comparisons only),
 * KP_SCALE_BINARY (measure this executable instead of building one), KP_SCALE_CPU_PROF=1 (run
 * the daemon with --cpu-prof and report its top self-time functions; timings of such a run are
 * the profiler's, not the daemon's alone), KP_SCALE_TRACE=<file> (append each API request's
 * arrival to <file> and the daemon's stderr, with --v=4 and an exec stamp, to <file>.daemon),
 * KP_SCALE_NODE_OPTIONS (more NODE_OPTIONS for the daemon, e.g. `--max-semi-space-size=16`: V8
 * flags apply after the executable's own, but make V8 reject the bundle's code cache),
 * KP_SCALE_SEMI_SPACE_MB (build the executable with this `--max-semi-space-size` instead of
 * tools/sea/targets.mjs's; not with KP_SCALE_BINARY), KP_SCALE_GC_TRACE=1 (run the daemon with --trace-gc and
 * report its main-thread GC time per collection kind, to the first sync and to the end),
 * KP_SCALE_STAGES=1 (nftables: each endpoint change's latency in parts, from the daemon's
 * `-v=4` JSON sync lines, a GC observer and the server's writes' times, with the time the bench's
 * and the daemon's main threads waited for a core and the VM's steal in each change's window, and the
 * change's floor: the same element swap by `nft -f` and over netlink alone (400 times) in the
 * daemon's table; see bench/scale-stages.ts
 * and bench/scale-change-floor.ts; and the paced floor, KP_SCALE_PACED_FLOOR transactions, default
 * 100, 0 for none, each woken after a change's idle by a write from the bench, in
 * bench/scale-paced-floor.ts), KP_SCALE_CPU_TICKS=1 (a preload logs the daemon's process and
 * main-thread CPU every 25 ms: `preSync` reports exec → the first sync's start, the synchronous
 * blocks before it and the main thread's share of the stream's wall time; see bench/scale-cpu-ticks.ts),
 * KP_SCALE_OUT (the result's file name under bench-results/ instead of kube-proxy-scale.json, or
 * kube-proxy-scale-cpu-prof.json with KP_SCALE_CPU_PROF=1), KP_SCALE_POLL_MS (how often the
 * daemon's /metrics is polled for the first sync, default 500; the figures come from the
 * metric's own stamp, so this only sets what the scrapes cost the daemon),
 * KP_SCALE_CONTENT_TYPE (the daemon's `--kube-api-content-type`, e.g. `application/json` to
 * compare with its default, protobuf), KP_SCALE_WARM_SERVER=1 (before the
 * daemon starts, read every Service and EndpointSlice once as JSON and once as protobuf, so the
 * in-process server's per-object encodings exist, as after other nodes' starts, and its
 * JavaScript encoder does not bound the daemon's start: see ScenarioSettings.warmServer).
 * Needs root (network namespaces). On SIGINT/SIGTERM it deletes its namespaces before exiting;
 * killed outright, its daemons die with it (parent-death signal), its probes with their stdin.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiServer, cleanupStaleNetns, startApiServer } from '@nodeagent/testing';
import { populateCluster } from './scale-cluster';
import { type Resources, runScenario, type Scenario, type ScenarioSettings } from './scale-scenario';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_SCENARIOS = 'nftables:5000x50,iptables:5000x50,nftables:44000x1,iptables:44000x1';

type SeaBuild = {
  buildSea(o: {
    outDir: string;
    names: string[];
    options?: { maxSemiSpaceSizeMb?: number };
  }): Promise<{ path: string }[]>;
};

function parseScenarios(text: string): Scenario[] {
  return text.split(',').map((item) => {
    const m = /^(nftables|iptables):(\d+)x(\d+)(?::(stream|list))?$/.exec(item.trim());
    if (!m)
      throw new Error(
        `KP_SCALE_SCENARIOS: "${item}" is not <nftables|iptables>:<services>x<endpoints>[:stream|:list]`,
      );
    return {
      mode: m[1] as Scenario['mode'],
      services: Number(m[2]),
      endpoints: Number(m[3]),
      initial: (m[4] ?? 'stream') as Scenario['initial'],
    };
  });
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: "${raw}" is not a whole number`);
  return n;
}

/** Scenarios of the same cluster shape share one API server (filled once). */
function byShape(scenarios: Scenario[]): Map<string, Scenario[]> {
  const shapes = new Map<string, Scenario[]>();
  for (const s of scenarios) {
    const key = `${s.services}x${s.endpoints}`;
    shapes.set(key, [...(shapes.get(key) ?? []), s]);
  }
  return shapes;
}

async function runShape(
  group: Scenario[],
  settings: ScenarioSettings,
  res: Resources & { api?: ApiServer },
): Promise<Record<string, unknown>[]> {
  const [{ services, endpoints }] = group as [Scenario];
  // KP_SCALE_TRACE=<file>: every API request's arrival (ms since the epoch, method, path), to
  // line up with the daemon's own log (<file>.daemon) when looking for where start-up waits.
  const trace = process.env.KP_SCALE_TRACE;
  const api = await startApiServer(
    trace ? { audit: (_u, method, path) => appendFileSync(trace, `${Date.now()} ${method} ${path}\n`) } : {},
  );
  res.api = api;
  const runs: Record<string, unknown>[] = [];
  try {
    const t0 = performance.now();
    populateCluster(api, services, endpoints);
    process.stderr.write(
      `cluster ${services}x${endpoints} written in ${Math.round(performance.now() - t0)} ms\n`,
    );
    for (const s of group) {
      // The WatchList feature gate as the scenario asks: off, the daemon's reflectors LIST.
      api.watchStreams.watchList = s.initial === 'stream';
      const run = await runScenario(
        api,
        s,
        settings,
        res,
        // A scenario that fails (a daemon that cannot sync at this size) is a result too.
      ).catch((err: Error) => ({
        mode: s.mode,
        services: s.services,
        endpointsPerService: s.endpoints,
        initialLists: s.initial,
        error: err.message.slice(0, 2000),
      }));
      process.stderr.write(`${JSON.stringify(run)}\n`);
      runs.push(run);
    }
  } finally {
    await api.close();
    res.api = undefined;
  }
  return runs;
}

/** On SIGINT/SIGTERM: delete what is still there, then exit. */
function cleanupOnSignal(res: Resources & { api?: ApiServer }, dir: string): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: cleaning up\n`);
    void Promise.allSettled([...res.netns].map((ns) => ns.delete()))
      .then(() => res.api?.close())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root: runs kube-proxy in network namespaces');
  const scenarios = parseScenarios(process.env.KP_SCALE_SCENARIOS ?? DEFAULT_SCENARIOS);
  await cleanupStaleNetns(); // namespaces of an earlier run that was killed outright
  const dir = mkdtempSync(join(tmpdir(), `na-kp-scale-${process.pid}-`));
  const res: Resources & { api?: ApiServer } = { netns: new Set() };
  cleanupOnSignal(res, dir);
  try {
    let binary = process.env.KP_SCALE_BINARY;
    const semiSpace = process.env.KP_SCALE_SEMI_SPACE_MB;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
      const options = semiSpace ? { options: { maxSemiSpaceSizeMb: Number(semiSpace) } } : {};
      binary = (await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kube-proxy'], ...options }))[0]
        ?.path as string;
    }
    const settings = {
      binary,
      dir,
      changes: envNumber('KP_SCALE_CHANGES', 100),
      steadyMs: envNumber('KP_SCALE_STEADY_MS', 10_000),
      steadyLateMs: envNumber('KP_SCALE_STEADY_LATE_MS', 0),
      firstSyncTimeoutMs: envNumber('KP_SCALE_TIMEOUT_MS', 600_000),
      cpuProfile: process.env.KP_SCALE_CPU_PROF === '1',
      ...(process.env.KP_SCALE_NODE_OPTIONS ? { nodeOptions: process.env.KP_SCALE_NODE_OPTIONS } : {}),
      gcTrace: process.env.KP_SCALE_GC_TRACE === '1',
      stages: process.env.KP_SCALE_STAGES === '1',
      pacedFloor: envNumber('KP_SCALE_PACED_FLOOR', 100),
      cpuTicks: process.env.KP_SCALE_CPU_TICKS === '1',
      ...(process.env.KP_SCALE_CONTENT_TYPE ? { contentType: process.env.KP_SCALE_CONTENT_TYPE } : {}),
      warmServer: process.env.KP_SCALE_WARM_SERVER === '1',
      floorRuns: Math.max(1, envNumber('KP_SCALE_FLOOR_RUNS', 2)),
      kernelChecks: process.env.KP_SCALE_KERNEL !== '0',
      pollMs: Math.max(1, envNumber('KP_SCALE_POLL_MS', 500)),
    };
    const runs: Record<string, unknown>[] = [];
    for (const group of byShape(scenarios).values()) runs.push(...(await runShape(group, settings, res)));
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.KP_SCALE_BINARY ?? 'nodeagent-kube-proxy single executable, built by this run',
      ...(semiSpace && !process.env.KP_SCALE_BINARY ? { maxSemiSpaceSizeMb: Number(semiSpace) } : {}),
      cpuProfile: settings.cpuProfile,
      contentType: settings.contentType ?? 'the daemon default (application/vnd.kubernetes.protobuf)',
      warmServer: settings.warmServer,
      pollMs: settings.pollMs,
      runs,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    const name =
      process.env.KP_SCALE_OUT ??
      (settings.cpuProfile ? 'kube-proxy-scale-cpu-prof.json' : 'kube-proxy-scale.json');
    writeFileSync(join(repoRoot, 'bench-results', name), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
