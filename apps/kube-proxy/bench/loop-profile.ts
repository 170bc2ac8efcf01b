import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The longest stretches of a `--cpu-prof` profile in which the main thread never went idle (one
// task, or tasks back to back), and the functions they ran: what a stall of the event loop is
// made of, named.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One busy stretch: when (CLOCK_MONOTONIC ms), how long, and where its time went. */
export interface BusyStretch {
  startMonotonicMs: number;
  ms: number;
  /** Functions by self time in the stretch (ms). */
  self: { fn: string; ms: number }[];
  /** Functions by time on the stack in the stretch (ms): the callers that own the stall. */
  onStack: { fn: string; ms: number }[];
}

const IDLE = new Set(['(idle)']);
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

function top(map: Map<string, number>, n: number): { fn: string; ms: number }[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 100) / 10 }));
}

/** The `count` longest busy stretches of `profile`, longest first. */
export function busyStretches(profile: CpuProfile, count = 3): BusyStretch[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Stretches as [first sample, end sample) with their start time.
  const found: { from: number; to: number; startUs: number; us: number }[] = [];
  let t = profile.startTime;
  let open: { from: number; startUs: number; us: number } | undefined;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const node = byId.get(id);
    const idle = !node || IDLE.has(node.callFrame.functionName);
    if (idle) {
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
      const self = new Map<string, number>();
      const onStack = new Map<string, number>();
      for (let i = s.from + 1; i < s.to; i++) {
        const us = profile.timeDeltas[i] ?? 0;
        let id: number | undefined = profile.samples[i];
        const leaf = id === undefined ? undefined : byId.get(id);
        if (leaf) self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + us);
        const names = new Set<string>();
        while (id !== undefined) {
          const node = byId.get(id);
          if (node && !GENERIC.has(node.callFrame.functionName || '(anonymous)')) names.add(frameName(node));
          id = parent.get(id);
        }
        for (const name of names) onStack.set(name, (onStack.get(name) ?? 0) + us);
      }
      return {
        startMonotonicMs: Math.round(s.startUs / 1000),
        ms: Math.round(s.us / 100) / 10,
        self: top(self, 10),
        onStack: top(onStack, 14),
      };
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
): Omit<BusyStretch, 'startMonotonicMs'> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const onStack = new Map<string, number>();
  let total = 0;
  let t = profile.startTime;
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    if (t / 1000 < fromMonotonicMs || t / 1000 > toMonotonicMs) return;
    let id: number | undefined = sample;
    const leaf = byId.get(sample);
    if (!leaf || IDLE.has(leaf.callFrame.functionName)) return;
    total += us;
    self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + us);
    const names = new Set<string>();
    while (id !== undefined) {
      const node = byId.get(id);
      if (node && !GENERIC.has(node.callFrame.functionName || '(anonymous)')) names.add(frameName(node));
      id = parent.get(id);
    }
    for (const name of names) onStack.set(name, (onStack.get(name) ?? 0) + us);
  });
  return { ms: Math.round(total / 100) / 10, self: top(self, 10), onStack: top(onStack, 14) };
}

/** The (one) profile a daemon wrote into `dir`, if any. */
export function profileInDir(dir: string): CpuProfile | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return file ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile) : undefined;
}
