/**
 * `npm run bench -- soak [--minutes N] [--agent kubelet|kube-proxy|both] [--api-server-restarts M,M…] [--heap-snapshots M,M…] [--cpu-profile-over MS] [--trace-gc] [--trace-opt] [--trace-malloc-trim] [--journalled-ext4] [--probe-period S] [--pod-churn-period S]`: both agents' single
 * executables as the units in deploy/systemd start them (their Environment= and LimitNOFILE, read
 * from the unit files: unit-start.ts), each in a memory cgroup of its own,
 * against an API server over HTTPS in a process of its own (api-server-process.ts), for N
 * minutes (60) of churn:
 * - kubelet, on a real containerd (tools/containerd): 110 pods with an exec readiness probe
 *   (period 10 s; --probe-period S sets it, so that a machine on which a process start costs
 *   several times its usual can still carry the churn unsaturated), one deleted and one created
 *   every 2 s (--pod-churn-period S: every S s, so that two kubelets, a build and the same build
 *   without a mechanism, can run side by side in one run on a 2-CPU machine);
 * - kube-proxy, nftables mode in a network namespace the bench makes: 5,000 Services × 50
 *   endpoints, 10 endpoint changes a second, a Service added and one removed every 10 s, a Node
 *   label change every 30 s;
 * - at N/3 and 2N/3 minutes the API server "restarts": every watch broken, its history gone,
 *   so every informer relists (--api-server-restarts M,M…: at those minutes instead, so that
 *   many relists in one run show whether each leaves memory behind).
 * Each minute, per agent: CPU seconds (the process and its reaped children), the cgroup's working
 * set (usage − inactive_file), anon, usage, file, kernel memory, PSS and VmRSS (means of 10 s samples),
 * event-loop delay p50/p99/max, the main thread's CPU in the longest delay and its longest task,
 * the longest GC pause and V8's heap at the minute's end (loop-preload.ts), anon by the mapping
 * holding it (malloc's heaps, V8's pages, V8's code range, the rest: readAnonMappings), kube-proxy's sync
 * durations and network-programming latency (its /metrics histograms, the slices stamped with
 * last-change-trigger-time as the EndpointSlice controller stamps them), the kubelet's pod
 * create → Ready latency, and the whole machine's load average and CPU pressure (machine-load.ts:
 * minutes it was saturated are named). Written to bench-results/soak.json after every minute, with an SVG of
 * each agent's series (bench-results/soak-<agent>.svg). The leak check fits a line through the
 * working set's minute means over the last 2N/3 minutes; a slope beyond noise (leak-fit.ts)
 * fails the bench. After the last minute, the kernel reclaims all it can from each agent's cgroup
 * (MemoryCgroup.reclaim), and the memory before and after is reported: what of the working set is
 * cache the kernel takes back under pressure (page cache, dentries of removed files), and what it
 * cannot (anon). --heap-snapshots: each agent's V8 heap at those minutes, and what grew between
 * the first and the last (heap-snapshots.ts). --cpu-profile-over MS: what each agent's main
 * thread ran in each minute's longest delay and task, from V8's sampling profiler
 * (cpu-profiles.ts). --trace-gc: each agent runs with V8's --trace-gc, and each minute has its
 * collections by kind and the pages V8's pool keeps after the last. --trace-opt: each agent runs
 * with V8's --trace-opt and --trace-deopt, and each minute has its optimised compilations and
 * deoptimisations, the summary the functions compiled most often (opt-trace.ts). --trace-malloc-trim: each
 * agent's malloc_trim calls timed from outside it by a uprobe, each minute's longest, and whether
 * one fell in the minute's longest event-loop delay (malloc-trim-trace.ts). --journalled-ext4: every
 * directory the run makes on a new ext4 with a journal, in a mount namespace of the bench's own
 * (journalled-ext4.ts).
 *
 * NA_SOAK_KUBELET_BINARY / NA_SOAK_KUBE_PROXY_BINARY measure those executables instead of
 * building them (tools/sea). Needs root.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { cgroupMemory, createNetns, type Netns, processMemory, readAnonMappings } from '@nodeagent/testing';
import { API_PORT, type Daemon, METRICS_PORT, startDaemon } from '../../apps/kube-proxy/bench/scale-daemon';
import { type GcTally, GcTraceTally } from '../../apps/kube-proxy/bench/scale-gc-trace';
import { ScaleProbe } from '../../apps/kube-proxy/bench/scale-probe';
import {
  type ApiAccess,
  type Kubelet,
  startKubelet,
  stopKubelet,
} from '../../apps/kubelet/bench/kubelet-process';
import { CpuProfiles } from './cpu-profiles';
import { fileSystemNote } from './file-system-note';
import type { HeapGrowth } from './heap-census';
import { HeapSnapshots } from './heap-snapshots';
import { type HistogramReading, histogramDelta, histogramQuantile, readHistogram } from './histogram-delta';
import {
  fileSystemBytes,
  IMAGE_ENV,
  JournalledExt4Error,
  mountImageAsTmpdir,
  rerunOnJournalledExt4,
  unmountImage,
} from './journalled-ext4';
import { type LeakFit, leakFit } from './leak-fit';
import { LOOP_PRELOAD, LOOP_RESOLUTION_MS, type LoopReport, longestLine } from './loop-preload';
import { LoopReportPipe } from './loop-report-pipe';
import { MachineLoad, SATURATED_PRESSURE_PCT, saturatedFromStart, saturatedMinutes } from './machine-load';
import { MallocTrimTrace, type TrimCall, trimMinute } from './malloc-trim-trace';
import { OPT_TRACE_PRELOAD, type OptTally, OptTraceTally, optTallySince } from './opt-trace';
import { PODS, PodChurn } from './pod-churn';
import { ServerProcess } from './server-process';
import { type Agent, parseSoakOptions, SoakArgumentError } from './soak-options';
import { plotSeries, type Series } from './svg-plot';
import { type UnitStart, unitStart, withNofile } from './unit-start';

const { MemoryCgroup, cgroupSummary, dropFromPageCache } = cgroupMemory;
const { mib } = processMemory;
type MemoryCgroup = cgroupMemory.MemoryCgroup;
type FileRefaults = cgroupMemory.FileRefaults;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = 5000;
const ENDPOINTS = 50;
const SAMPLE_MS = 10_000;
const MINUTE_MS = 60_000;
/** What the run could not do as the units do, written into the JSON. */
const notes: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number | undefined, digits = 1) =>
  v === undefined ? undefined : Number(v.toFixed(digits));
const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

/** CPU seconds of `pid` and of its children it has reaped (utime, stime, cutime, cstime of /proc/<pid>/stat). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** One agent under the soak: its process, cgroup, preload report and per-minute records. */
interface Subject {
  agent: Agent;
  pid: number;
  cgroup: MemoryCgroup;
  loop: LoopReportPipe;
  samples: { minute: number; memory: cgroupMemory.CgroupMemory }[];
  cpuAt: number;
  minutes: Record<string, unknown>[];
  /** kube-proxy: its metrics histograms at the last minute. */
  sync?: HistogramReading;
  programming?: HistogramReading;
  /** kube-proxy: the histograms at the churn's start (the whole run's figures). */
  syncStart?: HistogramReading;
  programmingStart?: HistogramReading;
  /** kubelet: every create → Ready latency (ms). */
  podLatencies?: number[];
  /** --heap-snapshots: the agent's snapshots, and what grew from the first to the last. */
  heap?: HeapSnapshots;
  heapGrowth?: HeapGrowth;
  /** --cpu-profile-over: the agent's kept CPU profiles. */
  profiles?: CpuProfiles;
  /** --trace-gc: the agent's collections so far, and at the last minute's end. */
  gc?: GcTraceTally;
  gcAt?: GcTally;
  /** --trace-opt: the agent's compilations and deoptimisations so far, and at the last minute's end. */
  opt?: OptTraceTally;
  optAt?: OptTally;
  /** --trace-malloc-trim: the tracer (one for every agent), and this agent's calls since minute 0. */
  trims?: MallocTrimTrace;
  trimCalls?: TrimCall[];
  /** The cgroup's memory just before and after the kernel reclaimed what it could, at the end. */
  reclaimed?: {
    before: cgroupMemory.CgroupMemorySummary;
    after: cgroupMemory.CgroupMemorySummary;
    /** File pages the agent read back in between, and those put on the active list (MemoryCgroup.fileRefaults). */
    fileRefaultsMiB?: FileRefaultsMiB;
  };
}

/**
 * File pages the agent read back, and those put on the active list, in MiB: a page evicted and
 * read back twice counts twice (v1's force_empty goes on evicting while the agent runs).
 */
interface FileRefaultsMiB {
  refaulted: number;
  activated?: number;
}

/** The pages `after` counts beyond `before`, in MiB. */
function refaultsBetween(before: FileRefaults, after: FileRefaults): FileRefaultsMiB {
  const refaulted = mib(after.refaultedBytes - before.refaultedBytes);
  if (before.activatedBytes === undefined || after.activatedBytes === undefined) return { refaulted };
  return { refaulted, activated: mib(after.activatedBytes - before.activatedBytes) };
}

/**
 * The kernel's reclaim of `s`'s cgroup, after the run: slab goes an RCU grace period after the
 * reclaim returns, so the reading after is taken once two in a row agree (at most 5 s). The
 * agent runs on meanwhile, and the file pages it still uses come back as refaults, which the
 * kernel may put straight on the active list: the working set after can count pages that the one
 * before, in a run without pressure, did not (fileRefaultsMiB says how many came back).
 */
async function reclaimAtEnd(s: Subject): Promise<void> {
  const before = cgroupSummary(await s.cgroup.read());
  const refaultsBefore = s.cgroup.fileRefaults();
  s.cgroup.reclaim();
  let after = cgroupSummary(await s.cgroup.read());
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    const next = cgroupSummary(await s.cgroup.read());
    const settled = next.kernelMiB === after.kernelMiB;
    after = next;
    if (settled) break;
  }
  const refaultsAfter = s.cgroup.fileRefaults();
  const fileRefaultsMiB =
    refaultsBefore && refaultsAfter ? refaultsBetween(refaultsBefore, refaultsAfter) : undefined;
  s.reclaimed = { before, after, ...(fileRefaultsMiB ? { fileRefaultsMiB } : {}) };
  const activeNote =
    fileRefaultsMiB?.activated === undefined ? '' : `, ${fileRefaultsMiB.activated} MiB of it as active`;
  const refaultNote = fileRefaultsMiB ? `; file read back ${fileRefaultsMiB.refaulted} MiB${activeNote}` : '';
  process.stderr.write(
    `${s.agent}: working set ${before.workingSetMiB} → ${after.workingSetMiB} MiB after the kernel's reclaim (anon ${before.anonMiB} → ${after.anonMiB}, kernel ${before.kernelMiB} → ${after.kernelMiB}, file ${before.fileMiB} → ${after.fileMiB}, active file ${round(before.fileMiB - before.inactiveFileMiB)} → ${round(after.fileMiB - after.inactiveFileMiB)}${refaultNote})\n`,
  );
}

/** The snapshots `heap` took, kept in `results`, and the growth between the first and the last, on stderr too. */
async function heapGrowthAtEnd(
  agent: Agent,
  heap: HeapSnapshots,
  results: string,
): Promise<HeapGrowth | undefined> {
  const { files, growth } = await heap.collect(results);
  process.stderr.write(`${agent}: heap snapshots ${files.join(', ')}\n`);
  if (!growth) return undefined;
  process.stderr.write(
    `${agent}: V8 heap ${growth.totalMiB[0]} → ${growth.totalMiB[1]} MiB; what changed most (count, KiB):\n`,
  );
  for (const r of growth.top)
    process.stderr.write(`  ${r.kind}: ${r.count[0]} → ${r.count[1]}, ${r.KiB[0]} → ${r.KiB[1]}\n`);
  return growth;
}

/**
 * V8's heap in a minute's loop reports, MiB: at the last one's end, committed in all, in code,
 * old and young space, used in all, and external / ArrayBuffer memory; over all of them, the most
 * committed in regular pages (the high-water mark V8's page pool keeps) and the least in use
 * after a full collection (the live data). Undefined from a preload that reports no spaces.
 */
function v8Heap(lines: LoopReport[]): Record<string, number | undefined> | undefined {
  const line = lines.at(-1);
  if (!line?.spaces) return undefined;
  const live = lines.map((l) => l.liveAfterFullGc).filter((v): v is number => v !== undefined);
  const committed = (name: string) => mib(line.spaces[name]?.[0] ?? 0);
  const sum = (i: 0 | 1) => mib(Object.values(line.spaces).reduce((n, sp) => n + sp[i], 0));
  return {
    committedMiB: sum(0),
    usedMiB: sum(1),
    codeMiB: committed('code_space'),
    oldMiB: committed('old_space'),
    youngMiB: committed('new_space'),
    externalMiB: mib(line.external),
    arrayBuffersMiB: mib(line.arrayBuffers),
    regularCommittedPeakMiB: mib(Math.max(...lines.map((l) => l.regularCommittedPeak ?? 0))),
    liveAfterFullGcMiB: live.length ? mib(Math.min(...live)) : undefined,
  };
}

/**
 * The agent's anon at the minute's end by the mapping that holds it (readAnonMappings), MiB:
 * what of an anon rise that V8's committed heap does not explain is malloc's, what is V8's
 * pages beyond its committed heap (its pool), and what is compiled code (V8's code range).
 */
async function anonByMapping(pid: number): Promise<Record<string, number>> {
  const m = await readAnonMappings(pid);
  return {
    mallocMiB: mib(m.mallocHeapBytes + m.mallocArenaBytes),
    v8PagesMiB: mib(m.v8PageBytes),
    v8CodeMiB: mib(m.v8CodeBytes),
    otherMiB: mib(m.otherBytes),
  };
}

/**
 * --trace-gc: the minute's collections by kind ("Mark-Compact (reduce)" is the memory reducer's)
 * and the MiB V8's pool keeps after the last collection: the part of V8's pages beyond its
 * committed heap.
 */
function gcMinute(s: Subject): { collections: Record<string, number>; pooledMiB?: number } | undefined {
  if (!s.gc) return undefined;
  const now = s.gc.snapshot();
  const collections: Record<string, number> = {};
  for (const [kind, { count }] of Object.entries(now.kinds))
    collections[kind] = count - (s.gcAt?.kinds[kind]?.count ?? 0);
  s.gcAt = now;
  return { collections, pooledMiB: now.pooledMiB };
}

/** --trace-opt: the minute's optimised compilations by tier and deoptimisations by reason. */
function optMinute(s: Subject): OptTally | undefined {
  if (!s.opt) return undefined;
  const now = s.opt.snapshot();
  const minute = optTallySince(now, s.optAt);
  s.optAt = now;
  return minute;
}

/** How often one function must be compiled to be named in the summary: more than warming up takes. */
const RECOMPILED_TIMES = 5;

const SYNC = 'kubeproxy_sync_proxy_rules_duration_seconds';
const PROGRAMMING = 'kubeproxy_network_programming_duration_seconds';
const ms = (seconds: number | undefined) => round(seconds === undefined ? undefined : seconds * 1000);

async function minuteRecord(
  extra: Record<string, unknown>,
  s: Subject,
  minute: number,
  probe: ScaleProbe | undefined,
  podLatencies: number[] | undefined,
): Promise<Record<string, unknown>> {
  const cpu = await cpuSeconds(s.pid);
  const window = s.samples.filter((x) => x.minute > minute - 1 && x.minute <= minute).map((x) => x.memory);
  const avg = (pick: (m: cgroupMemory.CgroupMemory) => number) => round(mean(window.map(pick)), 0);
  const mem = cgroupSummary({
    usageBytes: avg((m) => m.usageBytes) ?? 0,
    workingSetBytes: avg((m) => m.workingSetBytes) ?? 0,
    anonBytes: avg((m) => m.anonBytes) ?? 0,
    fileBytes: avg((m) => m.fileBytes) ?? 0,
    inactiveFileBytes: avg((m) => m.inactiveFileBytes) ?? 0,
    kernelBytes: avg((m) => m.kernelBytes) ?? 0,
    pssBytes: avg((m) => m.pssBytes) ?? 0,
    vmRssBytes: avg((m) => m.vmRssBytes) ?? 0,
    pids: [],
  });
  const loop = s.loop.take();
  const profiled = s.profiles?.take(loop, minute);
  const longest = longestLine(loop, (l) => l.maxMs);
  const trims = s.trims?.take(s.pid);
  s.trimCalls?.push(...(trims ?? []));
  // The longest delay's gap: from the tick before it to the one that measured it.
  const gap = longest?.maxAt
    ? { fromMs: longest.maxAt - longest.maxMs - LOOP_RESOLUTION_MS, toMs: longest.maxAt }
    : undefined;
  const record: Record<string, unknown> = {
    minute,
    cpuSeconds: round(cpu - s.cpuAt, 2),
    ...mem,
    loopDelayMs: {
      p50: round(mean(loop.map((l) => l.p50Ms))),
      p99: round(loop.length ? Math.max(...loop.map((l) => l.p99Ms)) : undefined),
      max: round(longest?.maxMs),
      maxOnCpu: round(longest?.maxOnCpuMs),
      maxInRunQueue: round(longest?.maxRunQueueMs),
      maxAt: longest?.maxAt ? new Date(Math.round(longest.maxAt)).toISOString() : undefined,
      longestTask: round(loop.length ? Math.max(...loop.map((l) => l.taskMaxMs)) : undefined),
      ...(profiled && { profiled }),
    },
    gcMaxPauseMs: round(loop.length ? Math.max(...loop.map((l) => l.gcMaxMs)) : undefined),
    v8: v8Heap(loop),
    ...(s.gc && { gc: gcMinute(s) }),
    ...(s.opt && { opt: optMinute(s) }),
    ...(trims && { mallocTrim: trimMinute(trims, gap) }),
    anonByMappingMiB: await anonByMapping(s.pid),
    ...extra,
  };
  s.cpuAt = cpu;
  if (probe) {
    const text = await probe.scrape();
    const sync = readHistogram(text, SYNC, 'ip_family="IPv4"') ?? readHistogram(text, SYNC);
    const programming =
      readHistogram(text, PROGRAMMING, 'ip_family="IPv4"') ?? readHistogram(text, PROGRAMMING);
    if (sync) {
      const d = histogramDelta(sync, s.sync);
      record.syncs = {
        count: d.count,
        meanMs: ms(d.count > 0 ? d.sum / d.count : undefined),
        p50Ms: ms(histogramQuantile(d, 0.5)),
        p99Ms: ms(histogramQuantile(d, 0.99)),
      };
      s.sync = sync;
    }
    if (programming) {
      const d = histogramDelta(programming, s.programming);
      record.changeLatencyMs = {
        count: d.count,
        p50: ms(histogramQuantile(d, 0.5)),
        p99: ms(histogramQuantile(d, 0.99)),
      };
      s.programming = programming;
    }
  }
  if (podLatencies) {
    s.podLatencies?.push(...podLatencies);
    record.changeLatencyMs = {
      count: podLatencies.length,
      p50: round(quantile(podLatencies, 0.5)),
      p99: round(quantile(podLatencies, 0.99)),
    };
  }
  s.minutes.push(record);
  process.stderr.write(`${s.agent} ${JSON.stringify(record)}\n`);
  return record;
}

/** The whole run's figures for one agent, and its leak check over the minutes from `leakFrom` on. */
function summarize(s: Subject, leakFrom: number): { summary: Record<string, unknown>; leak?: LeakFit } {
  const m = s.minutes as Array<
    Record<string, number> & {
      loopDelayMs: Record<string, number>;
      v8?: Record<string, number>;
      gc?: { pooledMiB?: number };
      anonByMappingMiB?: Record<string, number>;
    }
  >;
  const values = (k: string) => m.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
  const stats = (k: string) => {
    const v = values(k);
    return { mean: round(mean(v)), max: round(Math.max(...v)), last: v.at(-1) };
  };
  const loopMax = m.map((r) => r.loopDelayMs.max).filter((v) => typeof v === 'number');
  const longestTask = m.map((r) => r.loopDelayMs.longestTask).filter((v) => typeof v === 'number');
  const points = m
    .filter((r) => (r.minute ?? 0) > leakFrom)
    .map((r) => [r.minute ?? 0, r.workingSetMiB ?? 0] as [number, number]);
  const leak = points.length >= 3 ? leakFit(points) : undefined;
  // The same fit of anon, file pages and kernel memory says where a rise of the working set is
  // (the heap, page cache the agent reads or writes, or the kernel's objects made for it: dentries,
  // nf_tables state); only the working set's fails the bench.
  // V8's committed heap, its code space and its live data after full collections, read by the
  // preload, say which of V8's memory an anon rise is, and whether objects kept alive are in it.
  const fitBy = (pick: (r: (typeof m)[number]) => number | undefined) => {
    const xs = m
      .filter((r) => (r.minute ?? 0) > leakFrom && pick(r) !== undefined)
      .map((r) => [r.minute ?? 0, pick(r) ?? 0] as [number, number]);
    return xs.length >= 3 ? leakFit(xs) : undefined;
  };
  const fitOf = (k: 'anonMiB' | 'fileMiB' | 'kernelMiB') => fitBy((r) => r[k]);
  const v8 = (k: string) => (r: (typeof m)[number]) => r.v8?.[k];
  const byMapping = (k: string) => (r: (typeof m)[number]) => r.anonByMappingMiB?.[k];
  const summary: Record<string, unknown> = {
    cpuSecondsPerMinute: stats('cpuSeconds'),
    cpuSecondsTotal: round(
      values('cpuSeconds').reduce((a, b) => a + b, 0),
      2,
    ),
    workingSetMiB: stats('workingSetMiB'),
    anonMiB: stats('anonMiB'),
    usageMiB: stats('usageMiB'),
    fileMiB: stats('fileMiB'),
    kernelMiB: stats('kernelMiB'),
    pssMiB: stats('pssMiB'),
    vmRssMiB: stats('vmRssMiB'),
    loopDelayMaxMs: round(loopMax.length ? Math.max(...loopMax) : undefined),
    longestMainThreadTaskMs: round(longestTask.length ? Math.max(...longestTask) : undefined),
    gcMaxPauseMs: round(Math.max(...values('gcMaxPauseMs'))),
    leakCheck: leak ?? `too few minutes after minute ${leakFrom}`,
    anonFit: fitOf('anonMiB'),
    fileFit: fitOf('fileMiB'),
    kernelFit: fitOf('kernelMiB'),
    v8CommittedFit: fitBy(v8('committedMiB')),
    v8CodeFit: fitBy(v8('codeMiB')),
    v8LiveFit: fitBy(v8('liveAfterFullGcMiB')),
    v8PoolFit: fitBy((r) => r.gc?.pooledMiB),
    mallocFit: fitBy(byMapping('mallocMiB')),
    v8PagesFit: fitBy(byMapping('v8PagesMiB')),
    v8CodeRangeFit: fitBy(byMapping('v8CodeMiB')),
    otherAnonFit: fitBy(byMapping('otherMiB')),
    machineSaturatedMinutes: saturatedMinutes(s.minutes as { minute: number }[]),
    ...(s.trimCalls ? { mallocTrim: trimSummary(s) } : {}),
    ...(s.reclaimed ? { afterKernelReclaim: s.reclaimed } : {}),
    ...(s.heapGrowth ? { heapGrowth: s.heapGrowth } : {}),
    ...(s.opt ? { recompiled: s.opt.recompiled(RECOMPILED_TIMES).slice(0, 10) } : {}),
  };
  if (s.sync && s.syncStart) {
    const d = histogramDelta(s.sync, s.syncStart);
    summary.syncs = {
      count: d.count,
      meanMs: ms(d.count ? d.sum / d.count : undefined),
      p99Ms: ms(histogramQuantile(d, 0.99)),
    };
  }
  if (s.programming && s.programmingStart) {
    const d = histogramDelta(s.programming, s.programmingStart);
    summary.changeLatencyMs = {
      what: 'network programming (trigger stamp → rules synced), interpolated in its histogram (buckets 0.25 s wide below 1 s, 1 s wide to 60 s)',
      count: d.count,
      p50: ms(histogramQuantile(d, 0.5)),
      p99: ms(histogramQuantile(d, 0.99)),
    };
  }
  if (s.podLatencies) {
    summary.changeLatencyMs = {
      what: 'pod create → Ready, as a watch on the API server sees it',
      count: s.podLatencies.length,
      p50: round(quantile(s.podLatencies, 0.5)),
      p99: round(quantile(s.podLatencies, 0.99)),
    };
  }
  return { summary, ...(leak ? { leak } : {}) };
}

/** The run's malloc_trim calls: how long they held the main thread, and how often the minute's longest delay held one. */
function trimSummary(s: Subject): Record<string, number | undefined> {
  const wall = (s.trimCalls ?? []).map((c) => c.endMs - c.startMs);
  const minutes = s.minutes as { mallocTrim?: { inLongestDelay?: boolean } }[];
  return {
    count: wall.length,
    p50Ms: round(quantile(wall, 0.5)),
    p99Ms: round(quantile(wall, 0.99)),
    maxMs: round(wall.length ? Math.max(...wall) : undefined),
    minutesWhoseLongestDelayHeldOne: minutes.filter((m) => m.mallocTrim?.inLongestDelay).length,
  };
}

function plot(s: Subject, restarts: number[]): string {
  type Row = Record<string, unknown> & { minute: number };
  const rows = s.minutes as Row[];
  const pick = (f: (r: Row) => unknown): [number, number | undefined][] =>
    rows.map((r) => {
      const v = f(r);
      return [r.minute, typeof v === 'number' ? v : undefined];
    });
  const nested = (k: string, j: string) => (r: Row) => (r[k] as Record<string, unknown> | undefined)?.[j];
  const series: Series[] = [
    { name: 'CPU', unit: 's per minute', points: pick((r) => r.cpuSeconds) },
    { name: 'working set', unit: 'MiB', points: pick((r) => r.workingSetMiB) },
    { name: 'anon', unit: 'MiB', points: pick((r) => r.anonMiB) },
    { name: 'kernel', unit: 'MiB', points: pick((r) => r.kernelMiB) },
    { name: 'VmRSS', unit: 'MiB', points: pick((r) => r.vmRssMiB) },
    { name: 'event-loop delay p99', unit: 'ms', points: pick(nested('loopDelayMs', 'p99')) },
    { name: 'event-loop delay max', unit: 'ms', points: pick(nested('loopDelayMs', 'max')) },
    { name: 'longest main-thread task', unit: 'ms', points: pick(nested('loopDelayMs', 'longestTask')) },
    { name: 'longest GC pause', unit: 'ms', points: pick((r) => r.gcMaxPauseMs) },
    { name: 'change latency p50', unit: 'ms', points: pick(nested('changeLatencyMs', 'p50')) },
    { name: 'change latency p99', unit: 'ms', points: pick(nested('changeLatencyMs', 'p99')) },
  ];
  if (s.agent === 'kube-proxy')
    series.push({ name: 'sync duration mean', unit: 'ms', points: pick(nested('syncs', 'meanMs')) });
  return plotSeries(`${s.agent} soak (dashed: API server restarts)`, series, restarts);
}

async function main(): Promise<void> {
  const {
    minutes,
    agents,
    apiServerRestarts: restarts,
    heapSnapshots,
    cpuProfileOverMs,
    traceGc,
    traceOpt,
    traceMallocTrim,
    journalledExt4,
    probePeriodSeconds,
    podChurnPeriodSeconds,
  } = parseSoakOptions(process.argv.slice(2));
  const shape = soakShape(probePeriodSeconds, podChurnPeriodSeconds);
  if (heapSnapshots)
    notes.push(
      `heap snapshots at minutes ${heapSnapshots.join(', ')}: each stops the agent for a second or more and leaves memory behind, so the minutes after it are not a plain run's, and the leak check is reported but not judged`,
    );
  if (cpuProfileOverMs)
    notes.push(
      `--cpu-profile-over ${cpuProfileOverMs}: V8's sampling profiler ran in each agent (a sample each millisecond), so the CPU figures are not a plain run's; a minute's loopDelayMs.profiled names what ran in its longest delay and task`,
    );
  if (traceGc)
    notes.push(
      "--trace-gc: V8 printed a line per collection on each agent's stdout; a minute's gc has the collections by kind and the MiB V8's pool keeps after the last (pooledMiB)",
    );
  if (traceOpt)
    notes.push(
      `--trace-opt: V8 printed a line per optimised compilation and deoptimisation on each agent's stdout; a minute's opt has them by tier and by reason, the summary's recompiled the functions compiled ${RECOMPILED_TIMES} times or more`,
    );
  if (traceMallocTrim)
    notes.push(
      "--trace-malloc-trim: a uprobe on the C library's malloc_trim timed each agent's calls from outside it; a minute's mallocTrim has the longest, its time off the CPU, and whether one fell in the minute's longest event-loop delay",
    );
  if (process.getuid?.() !== 0)
    throw new Error('the soak bench needs root (containerd, network namespaces, cgroups)');
  const image = process.env[IMAGE_ENV];
  if (journalledExt4 && !image) {
    process.exitCode = await rerunOnJournalledExt4();
    return;
  }
  const mounted = image ? mountImageAsTmpdir(image) : undefined;
  if (mounted)
    notes.push(
      `--journalled-ext4: every directory of the run on a new ext4 with a journal, ${(fileSystemBytes(mounted) / 2 ** 30).toFixed(0)} GiB (the size of the file system it stands in for), mounted in a mount namespace of the bench's own`,
    );
  const stop = new AbortController();
  // `on`, not `once`: a second signal (Ctrl-C reaching a --journalled-ext4 run's outer process,
  // which passes it on too) must not end the run before its cleanup.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
  const dir = mkdtempSync(join(tmpdir(), `na-soak-${process.pid}-`));
  const results = join(repoRoot, 'bench-results');
  mkdirSync(results, { recursive: true });
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const subjects: Subject[] = [];
  let failed = false;
  try {
    const binaries = await executables(agents, dir);
    // Before the agents start, so that no call of theirs is missed.
    const trims = traceMallocTrim ? await MallocTrimTrace.start() : undefined;
    if (trims) cleanup.unshift(() => trims.stop());
    // Each agent's own list of calls.
    const traced = () => (trims ? { trims, trimCalls: [] as TrimCall[] } : {});
    const preload = join(dir, 'loop-preload.cjs');
    writeFileSync(preload, LOOP_PRELOAD);
    const optPreload = join(dir, 'trace-opt.cjs');
    if (traceOpt) writeFileSync(optPreload, OPT_TRACE_PRELOAD);
    const preloads = [preload, ...(traceOpt ? [optPreload] : [])].map((p) => `--require ${p}`).join(' ');
    let ns: Netns | undefined;
    if (agents.includes('kube-proxy')) {
      ns = await createNetns({ purpose: 'kpsoak' });
      const made = ns;
      cleanup.unshift(() => made.delete());
    }
    const kubeconfig = join(dir, 'kubeconfig');
    const server = await ServerProcess.start({
      kubeconfig,
      ...(ns
        ? {
            kubeProxy: {
              netns: ns.name,
              kubeconfig: join(dir, 'kube-proxy.kubeconfig'),
              services: SERVICES,
              endpoints: ENDPOINTS,
            },
          }
        : {}),
    });
    cleanup.unshift(() => server.stop());
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);

    let churn: PodChurn | undefined;
    let probe: ScaleProbe | undefined;
    if (agents.includes('kubelet')) {
      const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as {
        startContainerd(): Promise<{
          endpoint: string;
          images?: { busybox: { name: string } };
          stop(): Promise<void>;
        }>;
      };
      const containerd = await startContainerd();
      cleanup.unshift(() => containerd.stop());
      const busybox = containerd.images?.busybox.name;
      if (!busybox) throw new Error('tools/containerd imported no busybox image');
      const cgroup = MemoryCgroup.create('kubelet');
      const loop = LoopReportPipe.open(join(dir, 'kubelet.loop'));
      cleanup.unshift(() => loop.close());
      const access: ApiAccess = { writeKubeconfig: (p) => copyFileSync(kubeconfig, p), kubeConfig: () => kc };
      const binary = binaries.kubelet as string;
      dropFromPageCache(binary);
      const unit = unitStart(repoRoot, 'kubelet');
      notes.push(startNote('kubelet', unit), `the kubelet's directories: ${fileSystemNote(dir)}`);
      const heap = heapSnapshots && new HeapSnapshots(join(dir, 'heap-kubelet'), 'kubelet');
      const profiles = cpuProfileOverMs
        ? new CpuProfiles(join(dir, 'cpu-kubelet'), 'kubelet', cpuProfileOverMs, results)
        : undefined;
      let kubelet: Kubelet | undefined;
      // Read from the spawn on: a full pipe would stop the kubelet at its next trace line.
      const gc = traceGc ? new GcTraceTally() : undefined;
      const opt = traceOpt ? new OptTraceTally() : undefined;
      cleanup.unshift(async () => {
        await stopKubelet(kubelet);
        await cgroup.remove();
      });
      stop.signal.throwIfAborted();
      kubelet = await startKubelet(binary, access, containerd.endpoint, 'soak-node', {
        dir,
        // Room beside the 110 for pods still terminating while their successors start.
        maxPods: PODS + 10,
        gcTrace: traceGc,
        ...((gc || opt) && {
          stdout: (chunk: string) => {
            gc?.push(chunk);
            opt?.push(chunk);
          },
        }),
        env: {
          ...unit.env,
          NODE_OPTIONS: `${unit.nodeOptions} ${preloads}`.trim(),
          ...loopEnv(loop.path),
          ...heap?.env(),
          ...profiles?.env(),
        },
        wrap: (command, args) => cgroup.wrap(...withNofile(unit, command, args)),
      });
      churn = new PodChurn(kc, 'soak-node', busybox, probePeriodSeconds);
      const started = churn;
      cleanup.unshift(() => started.stop());
      await churn.start();
      await churn.fill(stop.signal);
      subjects.push({
        agent: 'kubelet',
        pid: kubelet.child.pid as number,
        cgroup,
        ...(gc && { gc }),
        ...(opt && { opt }),
        ...traced(),
        ...(heap ? { heap } : {}),
        ...(profiles ? { profiles } : {}),
        loop,
        samples: [],
        cpuAt: 0,
        minutes: [],
        podLatencies: [],
      });
    }
    if (ns) {
      const cgroup = MemoryCgroup.create('kube-proxy');
      const loop = LoopReportPipe.open(join(dir, 'kube-proxy.loop'));
      cleanup.unshift(() => loop.close());
      const binary = binaries['kube-proxy'] as string;
      dropFromPageCache(binary);
      const kpDir = join(dir, 'kube-proxy');
      mkdirSync(kpDir);
      const unit = unitStart(repoRoot, 'kube-proxy');
      notes.push(startNote('kube-proxy', unit));
      const heap = heapSnapshots && new HeapSnapshots(join(dir, 'heap-kube-proxy'), 'kube-proxy');
      const profiles = cpuProfileOverMs
        ? new CpuProfiles(join(dir, 'cpu-kube-proxy'), 'kube-proxy', cpuProfileOverMs, results)
        : undefined;
      let daemon: Daemon | undefined;
      // Read from the spawn on: a full pipe would stop kube-proxy at its next trace line.
      const opt = traceOpt ? new OptTraceTally() : undefined;
      cleanup.unshift(async () => {
        await daemon?.stop(5000);
        await cgroup.remove();
      });
      stop.signal.throwIfAborted();
      daemon = startDaemon(ns, {
        binary,
        mode: 'nftables',
        dir: kpDir,
        kubeconfig: join(dir, 'kube-proxy.kubeconfig'),
        nodeOptions: `${unit.nodeOptions} ${preloads}`.trim(),
        gcTrace: traceGc,
        ...(opt && { stdout: (chunk: string) => opt.push(chunk) }),
        env: { ...unit.env, ...loopEnv(loop.path), ...heap?.env(), ...profiles?.env() },
        wrap: (command, args) => cgroup.wrap(...withNofile(unit, command, args)),
      });
      probe = await ScaleProbe.start(ns, API_PORT, METRICS_PORT);
      const started = probe;
      cleanup.unshift(() => started.close());
      const first = await Promise.race([probe.waitSync(0, 500, 900_000), daemon.exited]);
      if (first.timeout) throw new Error(`kube-proxy did not sync in 15 min:\n${daemon.log()}`);
      const text = await probe.scrape();
      subjects.push({
        agent: 'kube-proxy',
        pid: daemon.pid,
        cgroup,
        ...(daemon.gc && { gc: daemon.gc }),
        ...(opt && { opt }),
        ...traced(),
        ...(heap ? { heap } : {}),
        ...(profiles ? { profiles } : {}),
        loop,
        samples: [],
        cpuAt: 0,
        minutes: [],
        ...withHistograms(text),
      });
      await server.command('churn');
    }

    // Minute 0: the churn starts; everything before it (pods filling, the first sync) is not counted.
    for (const s of subjects) {
      s.cpuAt = await cpuSeconds(s.pid);
      s.loop.take();
      s.trims?.take(s.pid);
      s.optAt = s.opt?.snapshot();
    }
    const t0 = performance.now();
    const at = () => (performance.now() - t0) / MINUTE_MS;
    const machineLoad = new MachineLoad();
    const podTimer = churn ? setInterval(() => churn?.step(), podChurnPeriodSeconds * 1000) : undefined;
    const pending = new Set(restarts);
    let nextMinute = 1;
    try {
      while (nextMinute <= minutes && !stop.signal.aborted) {
        await sleep(Math.max(0, SAMPLE_MS - ((performance.now() - t0) % SAMPLE_MS)));
        // A terminal's Ctrl-C reaches the agents too (they share its process group): after an
        // interrupt an agent's exit is expected, not a failure.
        if (stop.signal.aborted) break;
        const now = at();
        for (const s of subjects) {
          if (!existsSync(`/proc/${s.pid}`)) throw new Error(`${s.agent} exited`);
          s.samples.push({ minute: now, memory: await s.cgroup.read() });
        }
        for (const r of pending)
          if (now + 1e-6 >= r) {
            pending.delete(r);
            await server.command('restart');
            process.stderr.write(`API server restarted at minute ${now.toFixed(2)}\n`);
          }
        if (now + 1e-6 >= nextMinute) {
          const latencies = churn?.take();
          const machine = machineLoad.take();
          for (const s of subjects)
            await minuteRecord(
              s.agent === 'kubelet' && churn ? { pods: churn.counts(), machine } : { machine },
              s,
              nextMinute,
              s.agent === 'kube-proxy' ? probe : undefined,
              s.agent === 'kubelet' ? latencies : undefined,
            );
          if (heapSnapshots?.includes(nextMinute)) for (const s of subjects) s.heap?.take(s.pid, nextMinute);
          write(results, subjects, shape, minutes, restarts, false);
          if (nextMinute === SATURATED_START_MINUTES) warnIfSaturatedFromStart(subjects, probePeriodSeconds);
          nextMinute++;
        }
      }
    } finally {
      if (podTimer) clearInterval(podTimer);
    }
    const done = !stop.signal.aborted;
    if (done)
      for (const s of subjects) {
        if (s.heap) s.heapGrowth = await heapGrowthAtEnd(s.agent, s.heap, results);
        await reclaimAtEnd(s);
      }
    // A snapshot's pause and memory are in its minutes: a leak check over them cannot be judged.
    failed = write(results, subjects, shape, minutes, restarts, done) && !heapSnapshots;
  } finally {
    for (const step of cleanup)
      await Promise.resolve()
        .then(step)
        .catch((e) => process.stderr.write(`cleanup: ${e}\n`));
    rmSync(dir, { recursive: true, force: true });
    if (mounted) unmountImage(mounted);
  }
  for (const s of subjects) {
    const saturated = saturatedMinutes(s.minutes as { minute: number }[]);
    if (saturated.length > 0)
      process.stderr.write(
        `soak: the machine was saturated in ${saturated.length} of ${s.minutes.length} minutes of the ${s.agent} run (CPU pressure above ${SATURATED_PRESSURE_PCT}%): its timings there are the machine's\n`,
      );
  }
  if (stop.signal.aborted) {
    process.stderr.write('soak: interrupted; the minutes before it are in bench-results/soak.json\n');
    process.exitCode = 130;
  } else if (failed) {
    process.stderr.write(
      'soak: the working set grew over the leak check window (see leakCheck in bench-results/soak.json)\n',
    );
    process.exitCode = 1;
  }
}

/** What the run's notes say of how `agent` was started. */
const startNote = (agent: Agent, u: UnitStart) =>
  `${agent} started as ${u.unit} starts it: ${Object.entries(u.env)
    .map(([k, v]) => `${k}=${v}`)
    .concat(u.nodeOptions ? [`NODE_OPTIONS=${u.nodeOptions}`] : [])
    .join(', ')}, RLIMIT_NOFILE ${u.nofile} (LimitNOFILE=${u.limitNofile})`;

/**
 * The preload's settings: a line every sample period, so each minute gathers several whatever
 * the phase between the agent's timer and the bench's minutes.
 */
const loopEnv = (file: string) => ({ NA_SOAK_LOOP_REPORT: file, NA_SOAK_LOOP_PERIOD_MS: String(SAMPLE_MS) });

function withHistograms(
  text: string,
): Pick<Subject, 'sync' | 'syncStart' | 'programming' | 'programmingStart'> {
  const sync = readHistogram(text, SYNC, 'ip_family="IPv4"') ?? readHistogram(text, SYNC);
  const programming =
    readHistogram(text, PROGRAMMING, 'ip_family="IPv4"') ?? readHistogram(text, PROGRAMMING);
  return { sync, syncStart: sync, programming, programmingStart: programming };
}

/** What each agent ran under, as the JSON records it. */
const soakShape = (probePeriodSeconds: number, podChurnPeriodSeconds: number): Record<Agent, string> => ({
  kubelet: `${PODS} pods, exec readiness probe every ${probePeriodSeconds} s, one deleted and one created every ${podChurnPeriodSeconds} s, real containerd`,
  'kube-proxy': `nftables, ${SERVICES} Services × ${ENDPOINTS} endpoints, 10 endpoint changes a second, a Service added and one removed every 10 s, a Node label change every 30 s`,
});

/** Writes the JSON and the plots; returns whether a leak check failed. */
function write(
  results: string,
  subjects: Subject[],
  shape: Record<Agent, string>,
  minutes: number,
  restarts: number[],
  done: boolean,
): boolean {
  const leakFrom = minutes - Math.round((2 * minutes) / 3);
  let leaked = false;
  const agents: Record<string, unknown> = {};
  for (const s of subjects) {
    const { summary, leak } = summarize(s, leakFrom);
    if (done && leak?.leak) leaked = true;
    agents[s.agent] = { summary, minutes: s.minutes };
    writeFileSync(join(results, `soak-${s.agent}.svg`), plot(s, restarts));
  }
  const out = {
    generatedAt: new Date().toISOString(),
    complete: done,
    minutes,
    apiServerRestartsAtMinute: restarts,
    leakCheckFromMinute: leakFrom,
    machineSaturatedWhen: `some task waited for a CPU more than ${SATURATED_PRESSURE_PCT}% of the minute (/proc/pressure/cpu): such minutes' event-loop delays, pauses and latencies are the machine's`,
    notes,
    shape,
    agents,
  };
  writeFileSync(join(results, 'soak.json'), `${JSON.stringify(out, null, 2)}\n`);
  return leaked;
}

async function executables(agents: Agent[], dir: string): Promise<Partial<Record<Agent, string>>> {
  const given: Partial<Record<Agent, string | undefined>> = {
    kubelet: process.env.NA_SOAK_KUBELET_BINARY,
    'kube-proxy': process.env.NA_SOAK_KUBE_PROXY_BINARY,
  };
  const missing = agents.filter((a) => !given[a]);
  if (missing.length > 0) {
    const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as {
      buildSea(o: { outDir: string; names: string[] }): Promise<{ name: string; path: string }[]>;
    };
    const built = await buildSea({ outDir: join(dir, 'bin'), names: missing.map((a) => `nodeagent-${a}`) });
    for (const b of built) given[b.name.replace(/^nodeagent-/, '') as Agent] = b.path;
  }
  for (const a of agents)
    if (!given[a] || !existsSync(given[a] as string))
      throw new SoakArgumentError(
        `the ${a} executable ${given[a]} does not exist: build it (npm run build:sea) or unset NA_SOAK_*_BINARY`,
      );
  return given;
}

/** After this many minutes, a run saturated in each of them is named while it runs. */
const SATURATED_START_MINUTES = 5;

/**
 * A day too slow for the shape shows from the start (the kubelet's 10 s probes are 11 `runc exec`
 * a second): say so at minute 5, with the slow day's shape, rather than after the hour.
 */
function warnIfSaturatedFromStart(subjects: Subject[], probePeriodSeconds: number): void {
  const first = subjects[0];
  if (!first || !saturatedFromStart(first.minutes as { minute: number }[], SATURATED_START_MINUTES)) return;
  const kubelet = subjects.some((s) => s.agent === 'kubelet');
  const hint =
    kubelet && probePeriodSeconds < 60
      ? '; on such a day the kubelet\'s soak runs with `--probe-period 60 --journalled-ext4` (docs/performance/kubelet.md, "Which shape a day allows")'
      : '';
  process.stderr.write(
    `soak: the machine was saturated in each of the first ${SATURATED_START_MINUTES} minutes (CPU pressure above ${SATURATED_PRESSURE_PCT}%): the run's timings are the machine's${hint}\n`,
  );
}

// tools/containerd's typed errors, by code: that module is loaded only when the kubelet runs. A
// containerd or runc that is not installed, or one that exits at start with its log's tail.
const CONTAINERD_SETUP_ERRORS = new Set(['CONTAINERD_VERSION', 'RUNC_VERSION', 'CONTAINERD_START_FAILED']);
const isUsersToFix = (error: unknown): error is Error =>
  error instanceof SoakArgumentError ||
  error instanceof JournalledExt4Error ||
  (error instanceof Error && CONTAINERD_SETUP_ERRORS.has(String((error as { code?: unknown }).code)));

// A bad flag, a missing executable or a runtime that is not there is the user's to fix: its
// message alone, no stack trace. So is an interrupt before the first minute (after it, the
// minutes so far are written).
await main().catch((error: unknown) => {
  if (error instanceof DOMException && error.name === 'AbortError') {
    process.stderr.write('soak: interrupted before its first minute; what it started was stopped\n');
    process.exitCode = 130;
    return;
  }
  if (!isUsersToFix(error)) throw error;
  process.stderr.write(`soak: ${error.message}\n`);
  process.exitCode = 2;
});
