/**
 * `--cpu-profile-over <ms>`: V8's sampling profiler runs in each agent through the soak (the
 * preload's, loop-preload.ts), and a 10 s period whose longest event-loop delay or main-thread
 * task reached <ms> keeps its profile. Each minute, what the main thread ran in the gaps of the
 * minute's longest delay and longest task is read from their periods' profiles, which move to
 * bench-results/ as soak-<agent>-minute-<m>-<epoch ms>.cpuprofile (for DevTools); the others are
 * deleted at once, as their pages are charged to the agent's cgroup. The profiler costs the agent CPU of its
 * own, so a profiled run names what was slow; its CPU figures are not a plain run's.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CpuProfile, profileWindow, type SampleTime } from '../../apps/kube-proxy/bench/loop-profile';
import { type LoopReport, longestLine } from './loop-preload';

/** What the main thread ran in one gap between two ticks of the preload's timer. */
export interface GapProfile {
  /**
   * The gap's samples that were not idle, ms of wall time: V8 samples the main thread's stack
   * whether it runs, waits for a core or is blocked in a call (a sendmsg the kernel works in), so
   * beside the gap's CPU and run-queue wait (schedstat) this says where the thread was, not that it ran.
   */
  busyMs: number;
  /** Functions by time on the stack, the callers that own the gap first (ms). */
  onStack: { fn: string; ms: number }[];
  /** Functions by self time (ms). */
  self: { fn: string; ms: number }[];
}

export interface MinuteProfile {
  /** What ran in the gap of the minute's longest delay, and its profile in bench-results/. */
  delay?: GapProfile & { file: string };
  /** What ran in the gap of the minute's longest task (the most CPU between two ticks), the same way. */
  task?: GapProfile & { file: string };
}

/** `--cpu-profile-over 40` → 40: a whole number of milliseconds, at least 1; undefined for anything else. */
export function parseProfileThreshold(value: string): number | undefined {
  const ms = Number(value);
  return Number.isInteger(ms) && ms >= 1 ? ms : undefined;
}

export class CpuProfiles {
  constructor(
    private readonly dir: string,
    private readonly agent: string,
    private readonly overMs: number,
    /** Where the kept profiles go (bench-results/). */
    private readonly results: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The preload's settings for this agent. */
  env(): Record<string, string> {
    return { NA_SOAK_CPU_PROFILE_DIR: this.dir, NA_SOAK_CPU_PROFILE_OVER_MS: String(this.overMs) };
  }

  /**
   * The minute's lines: what ran in the gaps of its longest delay and its longest task, where
   * their periods kept a profile, those profiles moved to the results; every other one deleted.
   */
  take(lines: LoopReport[], minute: number): MinuteProfile | undefined {
    // The longest delay and the longest task are often in one period: its profile is read once.
    const read = new Map<LoopReport, { file: string; profile: CpuProfile }>();
    const gap = (line: LoopReport | undefined, which: 'maxGapMonotonicMs' | 'taskGapMonotonicMs') => {
      const window = line?.[which];
      if (!line?.profile || !window) return undefined;
      let kept = read.get(line);
      if (!kept) {
        kept = {
          file: `soak-${this.agent}-minute-${minute}-${line.at}.cpuprofile`,
          profile: JSON.parse(readFileSync(line.profile, 'utf8')),
        };
        copyFileSync(line.profile, join(this.results, kept.file));
        read.set(line, kept);
      }
      return { file: kept.file, ...gapProfile(profileWindow(kept.profile, window[0], window[1])) };
    };
    const delay = gap(
      longestLine(lines, (l) => l.maxMs),
      'maxGapMonotonicMs',
    );
    const task = gap(
      longestLine(lines, (l) => l.taskMaxMs),
      'taskGapMonotonicMs',
    );
    for (const l of lines) if (l.profile) rmSync(l.profile, { force: true });
    return delay || task ? { ...(delay && { delay }), ...(task && { task }) } : undefined;
  }
}

function gapProfile(w: SampleTime): GapProfile {
  return { busyMs: w.ms, onStack: w.onStack.slice(0, 8), self: w.self.slice(0, 5) };
}
