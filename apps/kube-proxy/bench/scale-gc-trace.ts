// Where a daemon's garbage-collection time goes, from V8's `--trace-gc` lines on its stdout
// (KP_SCALE_GC_TRACE=1): main-thread pauses per collection kind, and the incremental marking
// steps a mark-compact did on the main thread before its final pause. Concurrent marking and
// sweeping on V8's worker threads are not in these lines (they show in the CPU seconds only).
// Node 24's lines also give the pages V8's pool keeps after a collection freed them: mapped
// 256 KiB pages beyond the committed heap, which only a memory-reducing collection hands back.

import type { Readable } from 'node:stream';
import { LineSplitter } from './output-lines';

/**
 * A preload (`node --require`) that turns `--trace-gc` on: NODE_OPTIONS refuses the flag, and V8
 * reads its trace flags at run time, so setting it first thing traces every collection.
 */
export const GC_TRACE_PRELOAD = "require('node:v8').setFlagsFromString('--trace-gc');\n";

/** Collections of one kind: how many, and their main-thread milliseconds. */
export interface GcKindTally {
  count: number;
  pauseMs: number;
}

/** What `--trace-gc` reported so far. */
export interface GcTally {
  /** Per kind as V8 names it: Scavenge, Mark-Compact, Mark-Compact (reduce), Minor Mark-Sweep. */
  kinds: Record<string, GcKindTally>;
  /** Main-thread incremental marking steps before mark-compacts' final pauses. */
  incrementalMarkingMs: number;
  /** Pauses and incremental steps together: the main thread's GC time. */
  mainThreadMs: number;
  /** The pool after the last collection, MiB (V8's "MB"; whole ones), when the line has it. */
  pooledMiB?: number;
}

// `[pid:0x…]  412 ms: Scavenge 5.1 (6.3) -> 4.6 (7.3) MB, pooled: 0.0 MB, 1.03 / 0.00 ms  (…`
// then for mark-compacts `(+ 30.2 ms in 50 steps since start of marking, …`. Node 20 has no `pooled`.
const LINE =
  /: (Scavenge|Minor Mark-Sweep|Mark-Compact(?: \(reduce\))?|Mark-Sweep)(?= ).*? MB, (?:pooled: ([\d.]+) MB, )?([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in \d+ steps)?/;

/** Adds up `--trace-gc` lines as they arrive (chunks may split lines). */
export class GcTraceTally {
  private readonly lines = new LineSplitter();
  private readonly tally: GcTally = { kinds: {}, incrementalMarkingMs: 0, mainThreadMs: 0 };

  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) this.line(line);
  }

  /** A copy of the totals so far, rounded to 0.1 ms. */
  snapshot(): GcTally {
    const r = (n: number) => Math.round(n * 10) / 10;
    const kinds: Record<string, GcKindTally> = {};
    for (const [k, v] of Object.entries(this.tally.kinds))
      kinds[k] = { count: v.count, pauseMs: r(v.pauseMs) };
    return {
      kinds,
      incrementalMarkingMs: r(this.tally.incrementalMarkingMs),
      mainThreadMs: r(this.tally.mainThreadMs),
      ...(this.tally.pooledMiB !== undefined && { pooledMiB: this.tally.pooledMiB }),
    };
  }

  private line(line: string): void {
    const m = LINE.exec(line);
    if (!m) return;
    const kind = m[1] as string;
    if (m[2] !== undefined) this.tally.pooledMiB = Number(m[2]);
    const pause = Number(m[3]);
    const steps = m[4] === undefined ? 0 : Number(m[4]);
    const k = this.tally.kinds[kind] ?? { count: 0, pauseMs: 0 };
    this.tally.kinds[kind] = k;
    k.count++;
    k.pauseMs += pause;
    this.tally.incrementalMarkingMs += steps;
    this.tally.mainThreadMs += pause + steps;
  }
}

/** A tally of the `--trace-gc` lines a child prints on `stdout`, read from now on. */
export function tallyGcTrace(stdout: Readable | null): GcTraceTally {
  const gc = new GcTraceTally();
  stdout?.setEncoding('utf8').on('data', (chunk: string) => gc.push(chunk));
  return gc;
}
