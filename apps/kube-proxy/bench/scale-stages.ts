import { PerformanceObserver } from 'node:perf_hooks';
import { performanceToMonotonicMs } from './monotonic-clock';
import { LineSplitter } from './output-lines';
import { percentileOfSorted } from './percentile';

// One endpoint change's latency in parts (KP_SCALE_STAGES=1, issue #54). The daemon runs with
// `-v=4 --logging-format=json`: each nftables sync logs "synced nftables rules" with when its
// oldest change was tracked, when it started and each stage's ms (NftablesProxier.logStages); a
// preload reports every garbage collection (start, main-thread pause, kind) on stderr. All are
// CLOCK_MONOTONIC ms (monotonic-clock.ts), one clock for the daemon's marks and the bench's own
// stamps.

/** The preload's source: a `gc` PerformanceObserver writing one JSON line per collection. */
export const GC_OBSERVER_PRELOAD = `const { PerformanceObserver } = require('node:perf_hooks');
const toMonotonic = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const kinds = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' }; // NODE_PERFORMANCE_GC_*
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    process.stderr.write(JSON.stringify({ gc: kinds[e.detail?.kind] ?? String(e.detail?.kind),
      at: toMonotonic + e.startTime, ms: e.duration }) + '\\n');
}).observe({ entryTypes: ['gc'] });
`;

interface SyncLine {
  kind: string;
  operations: number;
  trackedAt?: number;
  startAt: number;
  stages: Record<string, number>;
  script?: string;
  /** The daemon's main thread's run-queue wait so far at the sync's stamp (ms, runQueueWaitMs). */
  runQueueWaitMs?: number;
}

interface GcLine {
  gc: string;
  at: number;
  ms: number;
}

/** What the bench knows of one change, in CLOCK_MONOTONIC ms: when it wrote it, the daemon's stamp, when its probe saw it. */
export interface ChangeStamps {
  writtenAt: number;
  /** When the bench's write (moveEndpoint: the registry's update and its watch events) returned. */
  writeReturnedAt?: number;
  /** The bench process's own GC pause ms between the write and the server sending the event. */
  benchGc?: number;
  /** When the in-process API server wrote the change's watch event to the daemon's connection. */
  sentAt?: number;
  /** The daemon's stamp of the sync that wrote it (whole ms of the wall clock) on CLOCK_MONOTONIC. */
  stampMs: number;
  seenAt: number;
  /** The bench's main thread's run-queue wait during its write (run-queue-wait.ts). */
  benchWaitMs?: number;
  /**
   * The daemon's main thread's run-queue wait from the write until the bench saw the stamp
   * (so including the sync's conntrack reconcile after the stamp, and the metrics scrapes).
   */
  daemonWaitMs?: number;
  /** The daemon's main thread's run-queue wait so far, read right before the write. */
  daemonWaitAtWrite?: number;
  /** The hypervisor's steal from this VM's CPUs over the same window (whole 10 ms ticks; machine-steal.ts). */
  machineStealMs?: number;
  /** The daemon's minor page faults over the same window (e.g. code pages released and faulted back). */
  daemonMinorFaults?: number;
}

/** One change's parts in ms; `undefined` parts had no sync line to read. */
type Parts = Record<string, number>;

/** This process's GC pauses from now until stop(), to tell the bench's own pauses from the daemon's. */
export function observeGc(): { within(from: number, to: number): number; stop(): void } {
  const pauses: [number, number][] = [];
  const toMonotonic = performanceToMonotonicMs();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([toMonotonic + e.startTime, e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    within: (from, to) =>
      pauses.reduce((ms, [at, d]) => ms + Math.max(0, Math.min(to, at + d) - Math.max(from, at)), 0),
    stop: () => observer.disconnect(),
  };
}

/** Collects the daemon's sync and GC lines from its stderr. */
export class StageLog {
  private readonly lines = new LineSplitter();
  readonly syncs: SyncLine[] = [];
  readonly gcs: GcLine[] = [];

  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) {
      if (!line.startsWith('{')) continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (o.msg === 'synced nftables rules') this.syncs.push(o as unknown as SyncLine);
      else if (typeof o.gc === 'string') this.gcs.push(o as unknown as GcLine);
    }
  }

  /** The newest partial sync's script (the last endpoint change), if the daemon logged one. */
  lastScript(): string | undefined {
    for (let i = this.syncs.length - 1; i >= 0; i--) {
      const s = this.syncs[i] as SyncLine;
      if (s.kind === 'partial' && s.script) return s.script;
    }
    return undefined;
  }

  /** The first sync that started after `at` (the change's write). */
  private syncAfter(at: number): SyncLine | undefined {
    return this.syncs.find((s) => s.startAt >= at);
  }

  /** Main-thread GC ms inside [from, to] and the longest pause there. */
  private gcWithin(from: number, to: number): { ms: number; longest: number; majors: number } {
    let ms = 0;
    let longest = 0;
    let majors = 0;
    for (const g of this.gcs) {
      const overlap = Math.min(to, g.at + g.ms) - Math.max(from, g.at);
      if (overlap <= 0) continue;
      ms += overlap;
      longest = Math.max(longest, g.ms);
      if (g.gc === 'major') majors++;
    }
    return { ms, longest, majors };
  }

  /** One change in parts: API write → tracked → sync start → its stages → stamp; detection after. */
  parts(c: ChangeStamps): Parts {
    const s = this.syncAfter(c.writtenAt);
    const gc = this.gcWithin(c.writtenAt, c.stampMs);
    const out: Parts = {
      total: c.stampMs - c.writtenAt,
      gcInside: gc.ms,
      gcLongest: gc.longest,
      gcMajors: gc.majors,
      detectionAfterStamp: c.seenAt - c.stampMs,
    };
    if (c.benchWaitMs !== undefined) out['wait.benchWrite'] = c.benchWaitMs;
    if (c.daemonWaitMs !== undefined) out['wait.daemonToSeen'] = c.daemonWaitMs;
    if (c.daemonMinorFaults !== undefined) out['faults.daemonToSeen'] = c.daemonMinorFaults;
    if (c.machineStealMs !== undefined) out['steal.machineToSeen'] = c.machineStealMs;
    if (!s) return out;
    const tracked = s.trackedAt ?? s.startAt;
    out.writeToTracked = tracked - c.writtenAt;
    if (c.sentAt !== undefined) {
      out['hop.writeToSent'] = c.sentAt - c.writtenAt;
      if (c.writeReturnedAt !== undefined) out['hop.write'] = c.writeReturnedAt - c.writtenAt;
      if (c.benchGc !== undefined) out['hop.benchGc'] = c.benchGc;
      out['hop.sentToTracked'] = tracked - c.sentAt;
    }
    out.trackedToStart = s.startAt - tracked;
    if (s.runQueueWaitMs !== undefined && c.daemonWaitAtWrite !== undefined) {
      // The daemon sleeps in epoll during the bench's write, so the two waits never overlap.
      const waited = s.runQueueWaitMs - c.daemonWaitAtWrite;
      out['wait.daemonToStamp'] = waited;
      out.totalLessWaits = c.stampMs - c.writtenAt - waited - (c.benchWaitMs ?? 0);
    }
    for (const [name, ms] of Object.entries(s.stages)) out[`sync.${name}`] = ms;
    // The stamp is Date.now() (whole ms) taken right after the 'commit' stage.
    out.operations = s.operations;
    return out;
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * p50, p99 and max of every part over the changes, the five slowest changes' parts, and every
 * change's (to see what the slow ones had in common).
 */
export function summarizeParts(log: StageLog, changes: ChangeStamps[]): Record<string, unknown> {
  const all = changes.map((c) => log.parts(c));
  const names = [...new Set(all.flatMap((p) => Object.keys(p)))];
  const summary: Record<string, unknown> = {};
  for (const name of names) {
    const values = all.map((p) => p[name]).filter((v): v is number => v !== undefined);
    const sorted = values.sort((a, b) => a - b);
    summary[name] = {
      p50: round(percentileOfSorted(sorted, 50)),
      p99: round(percentileOfSorted(sorted, 99)),
      max: round(sorted.at(-1) ?? Number.NaN),
    };
  }
  const slowest = [...all].sort((a, b) => (b.total ?? 0) - (a.total ?? 0)).slice(0, 5);
  return {
    perPart: summary,
    withoutSteal: totalsWithoutSteal(all),
    slowest: slowest.map(roundAll),
    perChange: all.map(roundAll),
    /**
     * Each change's write in CLOCK_MONOTONIC seconds, in perChange's order: to line changes up
     * with a system-wide trace recorded on that clock
     * (`perf record -k CLOCK_MONOTONIC -e sched:sched_switch -e sched:sched_wakeup -a`).
     */
    writtenMonotonicS: changes.map((c) => Math.round(c.writtenAt * 1000) / 1e6),
  };
}

/**
 * The changes whose window (write to the bench seeing the stamp) had no steal tick: a narrower
 * figure beside the headline, the same change latency over the changes the hypervisor left alone
 * (to within its 10 ms ticks), with how many they were.
 */
function totalsWithoutSteal(all: Parts[]): Record<string, number> | undefined {
  if (!all.some((p) => p['steal.machineToSeen'] !== undefined)) return undefined;
  const sorted = all
    .filter((p) => p['steal.machineToSeen'] === 0)
    .map((p) => p.total as number)
    .sort((a, b) => a - b);
  return {
    changes: sorted.length,
    of: all.length,
    p50: round(percentileOfSorted(sorted, 50)),
    p99: round(percentileOfSorted(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

function roundAll(p: Parts): Parts {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)]));
}
