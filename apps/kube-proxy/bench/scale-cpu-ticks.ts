// What the daemon did between exec and its first sync's start (KP_SCALE_CPU_TICKS=1, issue #54):
// a preload writes the process's and the main thread's CPU every 25 ms on stderr, stamped in
// CLOCK_MONOTONIC ms (monotonic-clock.ts). A tick is written only when the main thread's event
// loop turns, so a gap between ticks is a synchronous block (the bundle's start,
// a held stream's replace, the sync's start), and between the gaps the main thread's share of
// the wall time says whether the daemon or the API server's stream set the pace (well under 100%
// means the daemon waited for the in-process server).

import { LineSplitter } from './output-lines';

/** The preload's source: one `{"tick":…}` JSON line per turn of a 25 ms interval. */
export const CPU_TICK_PRELOAD = `const tick = () => {
  const p = process.cpuUsage();
  const m = process.threadCpuUsage ? process.threadCpuUsage() : undefined;
  process.stderr.write(JSON.stringify({ tick: Number(process.hrtime.bigint()) / 1e6,
    proc: (p.user + p.system) / 1000, main: m ? (m.user + m.system) / 1000 : null,
    heap: process.memoryUsage().heapUsed / 1e6 }) + '\\n');
};
tick();
setInterval(tick, 25).unref();
`;

interface Tick {
  tick: number;
  proc: number;
  main: number | null;
  heap: number;
}

/** Ticks apart by more than this are reported as a synchronous block. */
const BLOCK_MS = 90;
/** The stream's share is read from here on (the bundle's start is over by then). */
const STREAM_FROM_MS = 500;

/** The pre-sync timeline, ms from exec. */
export interface PreSyncTimeline {
  firstTickMs: number;
  syncStartMs: number;
  /** Process (all threads) and main-thread CPU ms at the last tick before the sync started. */
  cpuAtLastTickMs: { process: number; main: number | null; atMs: number };
  /** V8 heap used at that tick, MB. */
  heapMb: number;
  /** Main thread and process CPU over wall time from STREAM_FROM_MS to that tick. */
  busyShare: { main: number | null; process: number } | undefined;
  /** Synchronous blocks before the sync started: [from, to, main-thread CPU ms]. */
  blocks: [number, number, number | null][];
}

const round = (n: number) => Math.round(n);
const share = (n: number) => Math.round(n * 100) / 100;

/** Collects the preload's tick lines from the daemon's stderr. */
export class CpuTickLog {
  private readonly lines = new LineSplitter();
  private readonly ticks: Tick[] = [];

  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) {
      if (!line.startsWith('{"tick"')) continue;
      try {
        this.ticks.push(JSON.parse(line) as Tick);
      } catch {
        // a torn line: skip it
      }
    }
  }

  /** The timeline from `execAt` to `syncStartAt` (CLOCK_MONOTONIC ms), or undefined without ticks before it. */
  timeline(execAt: number, syncStartAt: number): PreSyncTimeline | undefined {
    const before = this.ticks.filter((t) => t.tick <= syncStartAt);
    const first = before[0];
    const last = before.at(-1);
    if (!first || !last) return undefined;
    const blocks: PreSyncTimeline['blocks'] = [];
    for (let i = 1; i < before.length; i++) {
      const a = before[i - 1] as Tick;
      const b = before[i] as Tick;
      if (b.tick - a.tick > BLOCK_MS)
        blocks.push([round(a.tick - execAt), round(b.tick - execAt), mainDelta(a, b)]);
    }
    // The block the sync's start interrupted: from the last tick to the start.
    if (syncStartAt - last.tick > BLOCK_MS)
      blocks.push([round(last.tick - execAt), round(syncStartAt - execAt), null]);
    const from = before.find((t) => t.tick - execAt >= STREAM_FROM_MS);
    const wall = from ? last.tick - from.tick : 0;
    return {
      firstTickMs: round(first.tick - execAt),
      syncStartMs: round(syncStartAt - execAt),
      cpuAtLastTickMs: {
        process: round(last.proc),
        main: last.main === null ? null : round(last.main),
        atMs: round(last.tick - execAt),
      },
      heapMb: round(last.heap),
      busyShare:
        from && wall > 0
          ? {
              main: from.main === null || last.main === null ? null : share((last.main - from.main) / wall),
              process: share((last.proc - from.proc) / wall),
            }
          : undefined,
      blocks,
    };
  }
}

function mainDelta(a: Tick, b: Tick): number | null {
  return a.main === null || b.main === null ? null : round(b.main - a.main);
}

/** `chunk` without the preload's tick lines (for the stderr tail a failure shows). */
export function withoutTicks(chunk: string): string {
  return chunk.replace(/^\{"tick".*(?:\n|$)/gm, '');
}
