import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// What a V8 CPU profile (`--cpu-prof`, or the inspector's Profiler) says the main thread ran: in
// its longest stretches without going idle (one task, or tasks back to back), or in a window of
// time such as one stall of the event loop, by function.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where some samples' time went (ms): functions by self time, and by time on the stack. */
export interface SampleTime {
  /** The samples' time, idle left out (ms). */
  ms: number;
  /** Functions by self time (ms). */
  self: { fn: string; ms: number }[];
  /** Functions by time on the stack (ms): the callers that own the stall. */
  onStack: { fn: string; ms: number }[];
}

/** One busy stretch: when (CLOCK_MONOTONIC ms), how long, and where its time went. */
export interface BusyStretch extends SampleTime {
  startMonotonicMs: number;
}

const IDLE = '(idle)';
/** Frames on every stack, which name nothing. */
const GENERIC = new Set([
  '(root)',
  '(program)',
  '(anonymous)',
  'processTicksAndRejections',
  'listOnTimeout',
  'processTimers',
]);

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.split('/').slice(-1)[0] ?? '';
  return file ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : functionName || '(anonymous)';
}

const tenths = (us: number) => Math.round(us / 100) / 10;

function top(map: Map<string, number>, n: number): { fn: string; ms: number }[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: tenths(us) }));
}

/**
 * A profile's call tree read once, and the tally of chosen samples over it: each sample's time
 * goes to its leaf (self) and once to every named frame on its stack.
 */
class SampleTally {
  private readonly byId: Map<number, ProfileNode>;
  private readonly parent = new Map<number, number>();
  private self = new Map<string, number>();
  private onStack = new Map<string, number>();
  private us = 0;

  constructor(profile: CpuProfile) {
    this.byId = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const n of profile.nodes) for (const c of n.children ?? []) this.parent.set(c, n.id);
  }

  isIdle(id: number): boolean {
    const node = this.byId.get(id);
    return !node || node.callFrame.functionName === IDLE;
  }

  add(sample: number, us: number): void {
    const leaf = this.byId.get(sample);
    if (!leaf) return;
    this.us += us;
    this.self.set(frameName(leaf), (this.self.get(frameName(leaf)) ?? 0) + us);
    const names = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = this.parent.get(id)) {
      const node = this.byId.get(id);
      if (node && !GENERIC.has(node.callFrame.functionName || '(anonymous)')) names.add(frameName(node));
    }
    for (const name of names) this.onStack.set(name, (this.onStack.get(name) ?? 0) + us);
  }

  /** The tally so far, and a fresh one begun. */
  take(): SampleTime {
    const taken = { ms: tenths(this.us), self: top(this.self, 10), onStack: top(this.onStack, 14) };
    this.self = new Map();
    this.onStack = new Map();
    this.us = 0;
    return taken;
  }
}

/** The `count` longest busy stretches of `profile`, longest first. */
export function busyStretches(profile: CpuProfile, count = 3): BusyStretch[] {
  const tally = new SampleTally(profile);
  // Stretches as [first sample, end sample) with their start time (µs).
  const found: { from: number; to: number; startUs: number; us: number }[] = [];
  let t = profile.startTime;
  let open: { from: number; startUs: number; us: number } | undefined;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (tally.isIdle(id)) {
      if (open) found.push({ ...open, to: i });
      open = undefined;
      return;
    }
    if (!open) open = { from: i, startUs: t, us: 0 };
    else open.us += delta;
  });
  if (open) found.push({ ...open, to: profile.samples.length });
  return found
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((s) => {
      // A stretch's first sample closes the idle time before it; its time is the rest's (s.us).
      for (let i = s.from + 1; i < s.to; i++) tally.add(profile.samples[i] ?? -1, profile.timeDeltas[i] ?? 0);
      return { startMonotonicMs: Math.round(s.startUs / 1000), ...tally.take() };
    });
}

/**
 * What the main thread ran from `fromMonotonicMs` to `toMonotonicMs` (CLOCK_MONOTONIC, as the
 * profile's times): the functions of one stall, by self time and time on the stack.
 */
export function profileWindow(
  profile: CpuProfile,
  fromMonotonicMs: number,
  toMonotonicMs: number,
): SampleTime {
  const tally = new SampleTally(profile);
  let t = profile.startTime;
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    if (t / 1000 < fromMonotonicMs || t / 1000 > toMonotonicMs || tally.isIdle(sample)) return;
    tally.add(sample, us);
  });
  return tally.take();
}

/** The (one) profile a daemon wrote into `dir`, if any. */
export function profileInDir(dir: string): CpuProfile | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return file ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile) : undefined;
}
