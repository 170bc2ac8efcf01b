import { percentileOfSorted } from './percentile';

/**
 * The event-loop bench's window into the daemon's main thread, loaded with NODE_OPTIONS=--require
 * (the executable carries nothing for it): a 10 ms timer on the main thread notes how late each
 * tick fired, and how much of that gap the thread spent on a core (its own CPU, from
 * /proc/thread-self/schedstat) and waiting for one (the run queue). On a shared, loaded machine
 * the lateness alone mixes the daemon's work with the wait for a core; the CPU part is what ran
 * on the main thread. Ticks are written to KP_LOOP_SAMPLES, one `epochMs late cpu wait` line
 * each (ms), in batches once a second.
 */
export const LOOP_TICK_MS = 10;

export const LOOP_SAMPLE_PRELOAD = `
const { appendFileSync, readFileSync } = require('node:fs');
const file = process.env.KP_LOOP_SAMPLES;
if (file) {
  const schedstat = () => {
    try {
      const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
      return [Number(run) / 1e6, Number(wait) / 1e6];
    } catch { return [0, 0]; }
  };
  let last = performance.now();
  let [lastRun, lastWait] = schedstat();
  let lines = [];
  let flushed = last;
  setInterval(() => {
    const now = performance.now();
    const [run, wait] = schedstat();
    const late = Math.max(0, now - last - ${LOOP_TICK_MS});
    lines.push((performance.timeOrigin + now).toFixed(1) + ' ' + late.toFixed(2) + ' ' + (run - lastRun).toFixed(2) + ' ' + (wait - lastWait).toFixed(2));
    last = now; lastRun = run; lastWait = wait;
    if (now - flushed >= 1000) {
      appendFileSync(file, lines.join('\\n') + '\\n');
      lines = [];
      flushed = now;
    }
  }, ${LOOP_TICK_MS}).unref();
}
`;

/** One tick: when it fired (epoch ms), how late, and the main thread's CPU and run-queue wait since the previous one (ms). */
export interface LoopTick {
  at: number;
  lateMs: number;
  cpuMs: number;
  waitMs: number;
}

export function parseTicks(text: string): LoopTick[] {
  const ticks: LoopTick[] = [];
  for (const line of text.split('\n')) {
    const [at, late, cpu, wait] = line.split(' ').map(Number);
    if (at === undefined || late === undefined || cpu === undefined || wait === undefined) continue;
    if (Number.isNaN(at + late + cpu + wait)) continue;
    ticks.push({ at, lateMs: late, cpuMs: cpu, waitMs: wait });
  }
  return ticks;
}

/** A phase's figures: the loop's delay spread and the longest stall, with what the main thread did in it. */
export interface PhaseLoop {
  ticks: number;
  delay: { p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * The tick that came latest: its lateness, the main thread's CPU in that gap (the longest
   * stretch of the daemon's own work the timer saw) and its wait for a core.
   */
  worst: { at: string; lateMs: number; cpuMs: number; waitMs: number } | null;
  /** The most main-thread CPU between two ticks: the longest single task, load aside. */
  longestTaskCpuMs: number;
  /** That gap: when it ended (epoch ms) and how long it was (its lateness plus the tick). */
  longestTaskGap: { endAt: number; ms: number } | null;
  /** Gaps over 100 ms, and of those the ones where the main thread ran over 100 ms of them. */
  over100Ms: number;
  cpuOver100Ms: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The ticks from `from` to `to` (epoch ms), summarised. */
export function phaseLoop(ticks: LoopTick[], from: number, to: number): PhaseLoop {
  const inside = ticks.filter((t) => t.at >= from && t.at <= to);
  const late = inside.map((t) => t.lateMs).sort((a, b) => a - b);
  let worst: LoopTick | undefined;
  let longest: LoopTick | undefined;
  for (const t of inside) {
    if (!worst || t.lateMs > worst.lateMs) worst = t;
    if (!longest || t.cpuMs > longest.cpuMs) longest = t;
  }
  return {
    ticks: inside.length,
    delay: {
      p50Ms: round(percentileOfSorted(late, 50)),
      p99Ms: round(percentileOfSorted(late, 99)),
      maxMs: round(late.at(-1) ?? 0),
    },
    worst: worst
      ? {
          at: new Date(worst.at).toISOString(),
          lateMs: round(worst.lateMs),
          cpuMs: round(worst.cpuMs),
          waitMs: round(worst.waitMs),
        }
      : null,
    longestTaskCpuMs: round(longest?.cpuMs ?? 0),
    longestTaskGap: longest ? { endAt: longest.at, ms: longest.lateMs + LOOP_TICK_MS } : null,
    over100Ms: inside.filter((t) => t.lateMs > 100).length,
    cpuOver100Ms: inside.filter((t) => t.cpuMs > 100).length,
  };
}
