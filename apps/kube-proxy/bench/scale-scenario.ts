import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runQueueWaitMs } from '@nodeagent/kube-proxy/runtime';
import { type ApiServer, type cgroupMemory, createNetns, type Netns } from '@nodeagent/testing';
import type { InitialEventsSent } from '@nodeagent/testing/apiserver';
import { listenInNetns } from '@nodeagent/testing/netns';
import { collectBenchGarbage } from './bench-gc';
import { machineStealMs } from './machine-steal';
import { monotonicNow, wallMinusMonotonicMs } from './monotonic-clock';
import { percentileOfSorted } from './percentile';
import { type ChangeFloor, nftChangeFloorMs } from './scale-change-floor';
import { moveEndpoint, podIP, warmServerUpdates } from './scale-cluster';
import { profileInDir, type SelfTime } from './scale-cpu-profile';
import type { PreSyncTimeline } from './scale-cpu-ticks';
import {
  API_PORT,
  cgroupMiB,
  cpuSeconds,
  type Daemon,
  METRICS_PORT,
  minorFaults,
  type RssReading,
  rss,
  startDaemon,
} from './scale-daemon';
import type { GcTally } from './scale-gc-trace';
import {
  changeFloorMs,
  dumpHas,
  dumpRules,
  kernelRules,
  type ProxyMode,
  restoreFloorMs,
} from './scale-kernel';
import { type BareList, metricValue, ScaleProbe } from './scale-probe';
import { type ChangeStamps, observeGc, type StageLog, summarizeParts } from './scale-stages';
import { type ServerWrites, tapServerWrites } from './server-writes';

// One scale scenario (issue #54): a mode against a cluster of `services` × `endpoints`, the
// daemon alone in a fresh namespace. Reads exec → first sync done from the sync metrics (the
// end of the first sync as the daemon stamped it), then moves one endpoint at a time and reads
// when the sync that wrote it ended, then the floors of the same work in the same namespace.

type CgroupMiB = cgroupMemory.CgroupMemorySummary;

export interface Scenario {
  mode: ProxyMode;
  services: number;
  endpoints: number;
  /** How the daemon reads the initial state: a watch-list stream, or LISTs (the server's WatchList gate off). */
  initial: 'stream' | 'list';
}

export interface ScenarioSettings {
  binary: string;
  dir: string;
  changes: number;
  steadyMs: number;
  /** Idle time after the steady reading before a second one (0: none). */
  steadyLateMs: number;
  firstSyncTimeoutMs: number;
  cpuProfile: boolean;
  /** Extra NODE_OPTIONS for the daemon (KP_SCALE_NODE_OPTIONS, e.g. `--max-semi-space-size=16`). */
  nodeOptions?: string;
  /** Tally the daemon's `--trace-gc` lines (KP_SCALE_GC_TRACE=1). */
  gcTrace?: boolean;
  /** Break each change's latency into parts (KP_SCALE_STAGES=1, see scale-stages.ts). */
  stages?: boolean;
  /** With stages: transactions of the paced change floor (KP_SCALE_PACED_FLOOR, see scale-paced-floor.ts; 0: none). */
  pacedFloor?: number;
  /** The daemon's CPU from exec to its first sync's start (KP_SCALE_CPU_TICKS=1, see scale-cpu-ticks.ts). */
  cpuTicks?: boolean;
  /** The daemon's `--kube-api-content-type` (KP_SCALE_CONTENT_TYPE); absent: its default, protobuf. */
  contentType?: string;
  /**
   * Before the daemon starts, read every Service and EndpointSlice once as JSON and once as
   * protobuf (KP_SCALE_WARM_SERVER=1), so the server's per-object encodings are made (as other
   * nodes' kube-proxies would have had them made) and the daemon's start is not bounded by the
   * in-process server's first encode in JavaScript, which a real kube-apiserver does in Go.
   */
  warmServer?: boolean;
  /** Loads of the floor's ruleset; the fastest counts. */
  floorRuns: number;
  /**
   * Count and dump the kernel's rules and load the floor's ruleset (KP_SCALE_KERNEL=0: no; at
   * 5k × 50 on a busy machine the dump alone took minutes, and a start-up comparison needs none of it).
   */
  kernelChecks: boolean;
  /**
   * How often the first sync's metric is polled (KP_SCALE_POLL_MS). The figures come from the
   * metric's own end stamp, so this sets only how much the polls themselves cost the daemon:
   * each /metrics scrape reads several /proc files on its main thread (polled every 50 ms, the
   * 44k start's CPU profile, KP_SCALE_CPU_PROF=1, had ~1.4 s in fstat, open and read).
   */
  pollMs: number;
}

/** Everything a scenario leaves to clean up, so a signal's handler can do it too. */
export interface Resources {
  netns: Set<Netns>;
}

const MB = 1e6;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * The daemon's minSyncPeriod (upstream's default 1 s) and a margin, counted from the end of the
 * run that wrote the last change (see runEnd): a change then never waits for the rate limit.
 */
const CHANGE_SPACING_MS = 1100;
/**
 * Updates of a slice the daemon does not watch before the first change (warmServerUpdates):
 * enough for V8 to compile the server's update path past its interpreter (a few ms in all).
 */
const SERVER_WARM_UPDATES = 50;
/** The longest runEnd waits for a sync's conntrack reconcile to be counted (one that failed never is). */
const RUN_END_WAIT_MS = 5000;
const RECONCILE = 'kubeproxy_conntrack_reconciler_sync_duration_seconds';
/**
 * Polls of the metric after one endpoint change (was 5 ms: a dozen scrapes inside a change's
 * sync). The latency is read from the metric's stamp, not from when a poll saw it.
 */
const CHANGE_POLL_MS = 50;
const LAST_TS = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
const SYNC_COUNT = 'kubeproxy_sync_proxy_rules_duration_seconds_count';

const LIST_PATHS = ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices'];
/** The Accept header of client-go (and the daemon) asking for protobuf. */
const PROTOBUF_ACCEPT = 'application/vnd.kubernetes.protobuf, application/json';

/** The bare list: the fastest of two plain GETs of every Service and EndpointSlice, parsed. */
async function bareList(probe: ScaleProbe): Promise<BareList> {
  const first = await probe.list(LIST_PATHS);
  const second = await probe.list(LIST_PATHS);
  return first.ms <= second.ms ? first : second;
}

interface FirstSync {
  execToDoneMs: number;
  ownMs: number | undefined;
  syncsSeen: number;
  lastTs: number;
}

async function firstSync(
  probe: ScaleProbe,
  daemon: Daemon,
  timeoutMs: number,
  pollMs: number,
): Promise<FirstSync> {
  const seen = await Promise.race([daemon.exited, probe.waitSync(0, pollMs, timeoutMs, true)]);
  if (!seen.text) throw new Error(`no sync within ${timeoutMs} ms:\n${daemon.log()}`);
  if (seen.failed) {
    await sleep(500); // its log line follows the metric
    const error =
      daemon
        .log()
        .split('\n')
        .find((l) => l.startsWith('E')) ?? daemon.log();
    throw new Error(`the first sync failed: ${error}`);
  }
  const lastTs = metricValue(seen.text, LAST_TS) as number;
  const fullSum = metricValue(seen.text, 'kubeproxy_sync_full_proxy_rules_duration_seconds_sum');
  const fullCount = metricValue(seen.text, 'kubeproxy_sync_full_proxy_rules_duration_seconds_count');
  return {
    execToDoneMs: lastTs * 1000 - daemon.execAt,
    // The first sync is full; its own duration is the full histogram's sum while it holds one.
    ownMs: fullCount === 1 && fullSum !== undefined ? fullSum * 1000 : undefined,
    syncsSeen: metricValue(seen.text, SYNC_COUNT) ?? 0,
    lastTs,
  };
}

interface ChangeResult {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * From the change's watch event entering the daemon's namespace (the in-process API server
   * writing it to the daemon's connection, whose listener was bound in that namespace) to the
   * same stamp: the daemon's own share. The rest of p50Ms is the bench's: its in-process API
   * server's write (registry update, watch event; with that process's GC).
   */
  fromEventInNamespace: Spread;
  /** Syncs beyond one per change (a periodic resync ending inside a window shortens that sample). */
  extraSyncs: number;
  /**
   * The longest a change's run went on after its sync's stamp (its conntrack reconcile): the
   * next change was spaced from the run's end, not the stamp (see runEnd).
   */
  reconcileAfterStampMaxMs: number;
  /**
   * How long the bench's own collection before a change kept its process busy (collectBenchGarbage
   * waits that out): before the first change, which follows the count of the kernel's rules, and
   * the longest.
   */
  benchSettle: { firstMs: number; maxMs: number };
  /** The last change's new address, to look for in the kernel's rules afterwards. */
  lastAddress: string;
  /** Each change's precise stamps, for the parts (KP_SCALE_STAGES=1). */
  stamps: ChangeStamps[];
}

/** p50, p99 and max of some changes' figure (ms), and how many changes had one. */
interface Spread {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  samples: number;
}

/** The spread of `values` (ms), to 0.01 ms. */
function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50Ms: round(percentileOfSorted(sorted, 50), 2),
    p99Ms: round(percentileOfSorted(sorted, 99), 2),
    maxMs: round(sorted.at(-1) ?? Number.NaN, 2),
    samples: sorted.length,
  };
}

/** The conntrack reconciles counted so far and their summed seconds. */
interface Reconciles {
  count: number;
  sum: number;
}

/**
 * When the daemon's run that stamped `lastTs` ended, epoch ms. The runner's minSyncPeriod counts
 * from a run's end, and the stamp comes before the run's last step, the conntrack reconcile (the
 * health-check step between them has nothing to do here: ClusterIP Services only). So a change
 * spaced from the stamp alone waits for the rate limit whenever that step took longer than the
 * margin, and the wait counts as its latency. Scrapes until the reconciles counted catch up with
 * the syncs, then adds what the reconciles since `prev` took (the newest one's, or more).
 */
async function runEnd(
  probe: ScaleProbe,
  lastTs: number,
  prev: Reconciles,
): Promise<{ endMs: number; reconciles: Reconciles }> {
  const giveUp = Date.now() + RUN_END_WAIT_MS;
  for (;;) {
    const text = await probe.scrape();
    const count = metricValue(text, `${RECONCILE}_count`) ?? 0;
    const sum = metricValue(text, `${RECONCILE}_sum`) ?? 0;
    if (count >= (metricValue(text, SYNC_COUNT) ?? 0) || Date.now() > giveUp) {
      const reconcileMs = count > prev.count ? (sum - prev.sum) * 1000 : 0;
      return { endMs: lastTs * 1000 + reconcileMs, reconciles: { count, sum } };
    }
    await sleep(CHANGE_POLL_MS);
  }
}

/**
 * `n` endpoint changes, each once the rate limiter is free: the change's latency is from the
 * API write to the end of the next sync the daemon stamps (after the kernel took the rules).
 */
async function endpointChanges(
  api: ApiServer,
  probe: ScaleProbe,
  s: Scenario,
  n: number,
  after: FirstSync,
  writes: ServerWrites,
  daemonPid: number,
): Promise<ChangeResult> {
  const latencies: number[] = [];
  let lastTs = after.lastTs;
  let syncs = after.syncsSeen;
  let address = '';
  let reconciles: Reconciles = { count: 0, sum: 0 };
  let afterStampMaxMs = 0;
  const stamps: ChangeStamps[] = [];
  const settled: number[] = [];
  /** The daemon's stamps are wall-clock ms; the parts are on CLOCK_MONOTONIC. */
  const wallOffset = wallMinusMonotonicMs();
  warmServerUpdates(api, SERVER_WARM_UPDATES);
  const benchGc = observeGc();
  for (let c = 0; c < n; c++) {
    const end = await runEnd(probe, lastTs, reconciles);
    reconciles = end.reconciles;
    if (c > 0) afterStampMaxMs = Math.max(afterStampMaxMs, end.endMs - lastTs * 1000);
    settled.push(await collectBenchGarbage());
    await sleep(Math.max(0, end.endMs + CHANGE_SPACING_MS - Date.now()));
    const service = (c * 7919) % s.services;
    address = podIP(s.services * s.endpoints + c);
    const daemonWait = runQueueWaitMs(`${daemonPid}/task/${daemonPid}`);
    const daemonFaults = minorFaults(daemonPid);
    const steal = machineStealMs();
    const benchWait = runQueueWaitMs();
    const writtenPrecise = monotonicNow();
    const writtenAt = Date.now();
    moveEndpoint(api, service, s.endpoints, address);
    const writeReturnedAt = monotonicNow();
    const benchWaitMs = runQueueWaitMs() - benchWait;
    // Only a sync that ended after the write can hold it (an earlier one is not this change's).
    const seen = await probe.waitSync(
      Math.max(lastTs, writtenAt / 1000),
      CHANGE_POLL_MS,
      60_000,
      false,
      CHANGE_POLL_MS,
    );
    const seenAt = monotonicNow();
    const daemonWaitMs = runQueueWaitMs(`${daemonPid}/task/${daemonPid}`) - daemonWait;
    const daemonMinorFaults = minorFaults(daemonPid) - daemonFaults;
    const machineSteal = machineStealMs() - steal;
    if (!seen.text) throw new Error(`change ${c}: no sync within 60 s`);
    lastTs = metricValue(seen.text, LAST_TS) as number;
    latencies.push(lastTs * 1000 - writtenAt);
    // The first write to a connection at or after the change's: its watch event.
    const sentAt = writes.after(writtenPrecise);
    stamps.push({
      writtenAt: writtenPrecise,
      writeReturnedAt,
      stampMs: lastTs * 1000 - wallOffset,
      seenAt,
      benchWaitMs,
      daemonWaitMs,
      daemonMinorFaults,
      daemonWaitAtWrite: daemonWait,
      machineStealMs: machineSteal,
      ...(sentAt !== undefined ? { sentAt } : {}),
    });
    if (c === n - 1) benchGc.stop();
    if ((c + 1) % 20 === 0)
      process.stderr.write(`  ${s.mode} ${s.services}x${s.endpoints}: ${c + 1}/${n} changes\n`);
    syncs = metricValue(seen.text, SYNC_COUNT) ?? syncs;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  // The stamp is whole ms (Date.now()), the write's time is not: the share reads up to 1 ms short.
  const fromEvent = stamps.flatMap((st) => (st.sentAt === undefined ? [] : [st.stampMs - st.sentAt]));
  return {
    count: n,
    p50Ms: round(percentileOfSorted(sorted, 50)),
    p99Ms: round(percentileOfSorted(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    fromEventInNamespace: spread(fromEvent),
    extraSyncs: syncs - after.syncsSeen - n,
    reconcileAfterStampMaxMs: round(afterStampMaxMs),
    benchSettle: { firstMs: round(settled[0] ?? 0), maxMs: round(Math.max(0, ...settled)) },
    lastAddress: address,
    stamps: stamps.map((st) => ({
      ...st,
      benchGc: benchGc.within(st.writtenAt, st.sentAt ?? st.writtenAt),
    })),
  };
}

/** The change figures for the report (the stamps go into changeParts). */
function changeFigures(c: ChangeResult): Omit<ChangeResult, 'stamps'> {
  const { stamps: _stamps, ...figures } = c;
  return figures;
}

function mb(bytes: number): number {
  return round(bytes / MB);
}

/** What the API server (this process) spent from the daemon's exec to its first sync seen. */
interface ServerCost {
  /** This process's CPU: the in-process API server and the metric polls. */
  cpuSeconds: number;
  bytesSent: number;
  /** The watch-list streams' initial states: events, bytes, writes, event-loop yields. */
  streams: InitialEventsSent;
}

/** Counts what the server sends from now until `done()`. */
function serverCost(api: ApiServer, writes: ServerWrites): { done(): ServerCost } {
  const cpu0 = process.cpuUsage();
  const bytes0 = writes.bytes();
  const streams: InitialEventsSent = { events: 0, bytes: 0, chunks: 0, yields: 0 };
  api.watchStreams.onInitialEventsSent = (s) => {
    streams.events += s.events;
    streams.bytes += s.bytes;
    streams.chunks += s.chunks;
    streams.yields += s.yields;
  };
  return {
    done: () => {
      api.watchStreams.onInitialEventsSent = undefined;
      const cpu = process.cpuUsage(cpu0);
      return {
        cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
        bytesSent: writes.bytes() - bytes0,
        streams,
      };
    },
  };
}

interface Measured {
  first: FirstSync;
  server: ServerCost;
  /** What warming the server read (ScenarioSettings.warmServer). */
  warmed?: { ms: number; bytes: number };
  /** 1-minute load average when the daemon started. */
  loadAverage: number;
  /** The daemon's CPU seconds at the first sync seen, and spent over the change loop. */
  cpu: { firstSync: number; changes: number };
  /** The daemon's minor page faults over the change loop. */
  faultsInChanges: number;
  list: BareList;
  /** The daemon's memory cgroup (working set, anon, …) at the first sync, steady and late; undefined without one. */
  cgroupFirst: CgroupMiB | undefined;
  cgroupSteady: CgroupMiB | undefined;
  cgroupLate: CgroupMiB | undefined;
  rssFirst: RssReading;
  rssSteady: RssReading;
  /** RSS steadyLateMs after rssSteady, when asked for. */
  rssLate: RssReading | undefined;
  /** Undefined (and so the dump, lastInKernel and the restore floor) without kernel checks. */
  kernel: { rules: number; elements: number } | undefined;
  changes: ChangeResult;
  lastInKernel: boolean | undefined;
  /** `nft list ruleset` / `iptables-save` of the whole ruleset, ms (what upstream's tools pay to read it). */
  dumpMs: number;
  restoreMs: number | undefined;
  /** iptables mode: the smallest change's transaction into the daemon's table (see changeFloorMs). */
  changeFloorMs: number | undefined;
  cpuProfileTop?: SelfTime[];
  /** `--trace-gc` totals at the first sync seen and when the daemon stopped (KP_SCALE_GC_TRACE=1). */
  gc?: { toFirstSync: GcTally | undefined; toStop: GcTally | undefined };
  /** The daemon's sync and GC lines (KP_SCALE_STAGES=1). */
  stages?: StageLog;
  /** Exec → the first sync's start (KP_SCALE_CPU_TICKS=1; the start is the stamp less the sync's own time). */
  preSync?: PreSyncTimeline;
  /** nftables mode with stages: the floor of the last change's transaction (scale-change-floor.ts). */
  nftChangeFloor?: ChangeFloor;
}

function report(s: Scenario, m: Measured): Record<string, unknown> {
  const floorMs = m.list.ms + (m.restoreMs ?? 0);
  return {
    mode: s.mode,
    services: s.services,
    endpointsPerService: s.endpoints,
    endpoints: s.services * s.endpoints,
    initialLists: s.initial,
    loadAverage: m.loadAverage,
    ...(m.warmed ? { serverWarmed: { ms: Math.round(m.warmed.ms), bytes: m.warmed.bytes } } : {}),
    execToFirstSyncDoneMs: Math.round(m.first.execToDoneMs),
    firstSyncOwnMs: m.first.ownMs === undefined ? null : Math.round(m.first.ownMs),
    syncsWhenFirstSeen: m.first.syncsSeen,
    cpuSeconds: {
      execToFirstSync: m.cpu.firstSync,
      perChange: round(m.cpu.changes / Math.max(1, m.changes.count), 3),
    },
    minorFaultsPerChange: Math.round(m.faultsInChanges / Math.max(1, m.changes.count)),
    serverToFirstSync: m.server,
    endpointChange: { ...changeFigures(m.changes), lastInKernel: m.lastInKernel },
    ...(m.stages ? { changeParts: summarizeParts(m.stages, m.changes.stamps) } : {}),
    ...(m.nftChangeFloor ? { changeFloor: m.nftChangeFloor } : {}),
    kernel: m.kernel ? { ...m.kernel, dumpMs: Math.round(m.dumpMs) } : null,
    // What the node charges first (the memory cgroup's working set and anon, MiB), VmRSS beside it.
    cgroupMiB: {
      afterFirstSync: m.cgroupFirst ?? null,
      steady: m.cgroupSteady ?? null,
      ...(m.cgroupLate ? { steadyLate: m.cgroupLate } : {}),
    },
    rssMB: {
      afterFirstSync: mb(m.rssFirst.rssBytes),
      peakAtFirstSync: mb(m.rssFirst.peakBytes),
      steady: mb(m.rssSteady.rssBytes),
      steadyAnon: mb(m.rssSteady.anonBytes),
      steadyFile: mb(m.rssSteady.fileBytes),
      ...(m.rssLate
        ? {
            steadyLate: mb(m.rssLate.rssBytes),
            steadyLateAnon: mb(m.rssLate.anonBytes),
            steadyLateFile: mb(m.rssLate.fileBytes),
          }
        : {}),
      peak: mb(m.rssSteady.peakBytes),
    },
    floor: {
      bareListMs: Math.round(m.list.ms),
      bareListBytes: m.list.bytes,
      bareListItems: m.list.items,
      ...(m.restoreMs === undefined
        ? {}
        : {
            [s.mode === 'nftables' ? 'nftLoadMs' : 'iptablesRestoreMs']: Math.round(m.restoreMs),
            totalMs: Math.round(floorMs),
            execToDoneOverFloor: round(m.first.execToDoneMs / floorMs, 2),
          }),
      ...(m.changeFloorMs === undefined
        ? {}
        : {
            changeIptablesRestoreMs: Math.round(m.changeFloorMs),
            changeP50OverFloor: round(m.changes.p50Ms / m.changeFloorMs, 2),
          }),
    },
    ...(m.gc ? { gcMainThread: m.gc } : {}),
    ...(m.cpuProfileTop ? { cpuProfileTop: m.cpuProfileTop } : {}),
    ...(m.preSync ? { preSync: m.preSync } : {}),
  };
}

/**
 * The daemon's CPU ticks from exec to `syncStartWallMs` (the wall clock, as its stamps and
 * execAt are), on CLOCK_MONOTONIC as the ticks are.
 */
function timelineOnMonotonic(daemon: Daemon, syncStartWallMs: number): PreSyncTimeline | undefined {
  const wallOffset = wallMinusMonotonicMs();
  return daemon.ticks?.timeline(daemon.execAt - wallOffset, syncStartWallMs - wallOffset);
}

async function measure(
  api: ApiServer,
  ns: Netns,
  probe: ScaleProbe,
  s: Scenario,
  o: ScenarioSettings,
  dir: string,
  writes: ServerWrites,
): Promise<Measured> {
  const list = await bareList(probe);
  const warmed = o.warmServer
    ? await probe.warm(LIST_PATHS, ['application/json', PROTOBUF_ACCEPT], s.initial === 'stream')
    : undefined;
  const profDir = join(dir, 'cpu-prof');
  mkdirSync(profDir, { recursive: true });
  const loadAverage = round(loadavg()[0] ?? 0, 1);
  const cost = serverCost(api, writes);
  const daemon = startDaemon(ns, {
    binary: o.binary,
    mode: s.mode,
    dir,
    nodeOptions: [o.nodeOptions, o.cpuProfile ? `--cpu-prof --cpu-prof-dir=${profDir}` : undefined]
      .filter(Boolean)
      .join(' '),
    gcTrace: o.gcTrace ?? false,
    stages: o.stages ?? false,
    cpuTicks: o.cpuTicks ?? false,
    ...(o.contentType ? { contentType: o.contentType } : {}),
  });
  try {
    const first = await firstSync(probe, daemon, o.firstSyncTimeoutMs, o.pollMs);
    const server = cost.done();
    const cgroupFirst = await cgroupMiB(daemon.pid);
    const rssFirst = rss(daemon.pid);
    const cpuFirst = cpuSeconds(daemon.pid);
    const gcFirst = daemon.gc?.snapshot();
    const preSync =
      first.ownMs === undefined ? undefined : timelineOnMonotonic(daemon, first.lastTs * 1000 - first.ownMs);
    const kernel = o.kernelChecks ? await kernelRules(ns, s.mode, dir) : undefined;
    const cpuBefore = cpuSeconds(daemon.pid);
    const faultsBefore = minorFaults(daemon.pid);
    const changes = await Promise.race([
      daemon.exited,
      endpointChanges(api, probe, s, o.changes, first, writes, daemon.pid),
    ]);
    const cpu = { firstSync: cpuFirst, changes: cpuSeconds(daemon.pid) - cpuBefore };
    const faultsInChanges = minorFaults(daemon.pid) - faultsBefore;
    await sleep(o.steadyMs);
    const cgroupSteady = await cgroupMiB(daemon.pid);
    const rssSteady = rss(daemon.pid);
    if (o.steadyLateMs > 0) await sleep(o.steadyLateMs);
    const cgroupLate = o.steadyLateMs > 0 ? await cgroupMiB(daemon.pid) : undefined;
    const rssLate = o.steadyLateMs > 0 ? rss(daemon.pid) : undefined;
    const dumpStart = performance.now();
    const rules = o.kernelChecks ? await dumpRules(ns, s.mode, dir) : undefined;
    const dumpMs = performance.now() - dumpStart;
    const lastInKernel =
      rules === undefined ? undefined : o.changes === 0 || dumpHas(rules, changes.lastAddress);
    await daemon.stop();
    const gc = daemon.gc ? { toFirstSync: gcFirst, toStop: daemon.gc.snapshot() } : undefined;
    // The change floor needs the daemon's table, which the restore floor empties.
    const changeFloor =
      rules !== undefined && s.mode === 'iptables' ? await changeFloorMs(ns, dir) : undefined;
    // Needs the daemon's table too (the restore floor empties it), and the last change's script.
    const script = daemon.stages?.lastScript();
    const nftChangeFloor =
      s.mode === 'nftables' && script
        ? await nftChangeFloorMs(ns, dir, script, changes.lastAddress, {
            samples: o.pacedFloor ?? 0,
            spacingMs: CHANGE_SPACING_MS,
          })
        : undefined;
    const restoreMs = rules === undefined ? undefined : await restoreFloorMs(ns, s.mode, rules, o.floorRuns);
    const cpuProfileTop = o.cpuProfile ? profileInDir(profDir) : undefined;
    return {
      first,
      server,
      ...(warmed ? { warmed } : {}),
      loadAverage,
      cpu,
      faultsInChanges,
      list,
      cgroupFirst,
      cgroupSteady,
      cgroupLate,
      rssFirst,
      rssSteady,
      rssLate,
      kernel,
      changes,
      lastInKernel,
      dumpMs,
      restoreMs,
      changeFloorMs: changeFloor,
      cpuProfileTop,
      ...(gc ? { gc } : {}),
      ...(daemon.stages ? { stages: daemon.stages } : {}),
      ...(nftChangeFloor ? { nftChangeFloor } : {}),
      ...(preSync ? { preSync } : {}),
    };
  } finally {
    await daemon.stop(2000);
  }
}

/** Runs one scenario in a namespace of its own, deleted whatever happens. */
export async function runScenario(
  api: ApiServer,
  s: Scenario,
  o: ScenarioSettings,
  res: Resources,
): Promise<Record<string, unknown>> {
  const ns = await createNetns({ purpose: 'kpscale' });
  res.netns.add(ns);
  const dir = join(o.dir, ns.name);
  mkdirSync(dir, { recursive: true });
  try {
    // The API server answers on 127.0.0.1:API_PORT inside the namespace itself: nothing between
    // the daemon and the server that a node's kube-proxy would not have.
    const listener = await listenInNetns(ns, API_PORT);
    const writes = tapServerWrites(listener);
    api.serve(listener);
    const probe = await ScaleProbe.start(ns, API_PORT, METRICS_PORT);
    try {
      return report(s, await measure(api, ns, probe, s, o, dir, writes));
    } finally {
      probe.close();
      listener.close();
    }
  } finally {
    await ns.delete();
    res.netns.delete(ns);
  }
}
