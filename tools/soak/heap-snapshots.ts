/**
 * `--heap-snapshots <minutes>`: an agent's V8 heap written at chosen minutes of the soak (by the
 * preload, on SIGUSR2: loop-preload.ts), kept in bench-results/ for DevTools, and the growth by
 * kind between the first and the last (heap-census.ts) written into the run's summary. Writing a
 * snapshot stops the agent's main thread for a second or more and leaves the file in its page
 * cache, so the minutes of a run that takes them are not the figures of one that does not.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HeapGrowth, heapGrowth, readHeapCensus } from './heap-census';
import { parseMinuteList } from './minute-list';

/**
 * `--heap-snapshots 20,60` → [20, 60]: two or more whole minutes of an N-minute run, ascending;
 * undefined for anything else.
 */
export function parseSnapshotMinutes(value: string, minutes: number): number[] | undefined {
  return parseMinuteList(value, 2, minutes);
}

/** One agent's snapshots: where its preload writes them and which minute each was asked at. */
export class HeapSnapshots {
  private readonly taken: number[] = [];

  constructor(
    private readonly dir: string,
    private readonly agent: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The preload's setting for this agent. */
  env(): Record<string, string> {
    return { NA_SOAK_HEAP_DIR: this.dir };
  }

  /** Asks the agent (`pid`) for a snapshot, for `minute`. */
  take(pid: number, minute: number): void {
    process.kill(pid, 'SIGUSR2');
    this.taken.push(minute);
  }

  /**
   * Waits (at most `timeoutMs` for each) until every asked-for snapshot is whole, moves them to
   * `results` as soak-<agent>-minute-<m>.heapsnapshot, and returns the growth from the first to
   * the last; undefined if fewer than two were asked for.
   */
  async collect(results: string, timeoutMs = 300_000): Promise<{ files: string[]; growth?: HeapGrowth }> {
    const files: string[] = [];
    for (const [i, minute] of this.taken.entries()) {
      const written = join(this.dir, `${i + 1}.heapsnapshot`);
      for (const t0 = Date.now(); !existsSync(written); await sleep(250))
        if (Date.now() - t0 > timeoutMs)
          throw new Error(
            `${this.agent}: the heap snapshot of minute ${minute} was not written in ${timeoutMs / 1000} s`,
          );
      const kept = join(results, `soak-${this.agent}-minute-${minute}.heapsnapshot`);
      copyFileSync(written, kept);
      rmSync(written);
      files.push(kept);
    }
    if (files.length < 2) return { files };
    return {
      files,
      growth: heapGrowth(readHeapCensus(files[0] as string), readHeapCensus(files.at(-1) as string)),
    };
  }
}
