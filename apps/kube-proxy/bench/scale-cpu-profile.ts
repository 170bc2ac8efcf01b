import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Where a `--cpu-prof` profile says the daemon's time went: self time per function (the
// samples whose top frame it was), largest first.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

function frameName(node: ProfileNode): { fn: string; where: string } {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.split('/').slice(-2).join('/');
  return { fn: functionName || '(anonymous)', where: file ? `${file}:${lineNumber + 1}` : '' };
}

/** The `top` functions by self time in one .cpuprofile. */
export function topSelfTime(profile: CpuProfile, top = 25): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, SelfTime>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || us < 0) return;
    all += us;
    const { fn, where } = frameName(node);
    const key = `${fn} ${where}`;
    const entry = total.get(key) ?? { fn, where, ms: 0, share: 0 };
    entry.ms += us / 1000;
    total.set(key, entry);
  });
  return [...total.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((e) => ({ ...e, ms: Math.round(e.ms), share: Math.round((e.ms / (all / 1000)) * 1000) / 1000 }));
}

/** The top self-time functions of the (one) profile a daemon wrote into `dir`, if any. */
export function profileInDir(dir: string, top?: number): SelfTime[] | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  return topSelfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, top);
}
