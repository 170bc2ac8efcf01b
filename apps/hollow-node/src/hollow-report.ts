import type { HollowNode } from './hollow-node';
import type { NodeRequests, RequestCounter } from './request-counter';

/** What the operator reads at the end of a run (printed as JSON). */
export interface HollowReport {
  nodes: number;
  morph: string;
  elapsedSeconds: number;
  /** Pods whose phase the kubelets report Running. */
  podsRunning: number;
  requests: {
    total: number;
    /** Mean over the nodes. */
    perNodePerMinute: number;
    /** "VERB resource" → mean requests per node per minute. */
    perNodePerMinuteByKind: Record<string, number>;
    /** Each node's total and its counts by "VERB resource". */
    byNode: Record<string, { total: number; byKind: Record<string, number> }>;
  };
  watches: { open: number; perNode: number };
  process: {
    rssBytes: number;
    rssBytesPerNode: number;
    cpuSeconds: number;
    cpuSecondsPerNodePerMinute: number;
  };
}

/** Where the run started: wall time and the process's CPU then. */
export interface RunStart {
  atMs: number;
  cpu: NodeJS.CpuUsage;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function podsRunning(nodes: readonly HollowNode[]): number {
  let running = 0;
  for (const node of nodes) {
    const kubelet = node.kubelet?.kubelet;
    for (const pod of kubelet?.getPods() ?? [])
      if (kubelet?.getPodStatus(pod.metadata.uid ?? '')?.phase === 'Running') running++;
  }
  return running;
}

function sumByKind(perNode: Iterable<NodeRequests>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const counts of perNode)
    for (const [kind, count] of counts.byKind) sums.set(kind, (sums.get(kind) ?? 0) + count);
  return sums;
}

/** The report of `nodes` since `start`, with `counter`'s requests and this process's RSS and CPU. */
export function hollowReport(
  nodes: readonly HollowNode[],
  morph: string,
  counter: RequestCounter,
  start: RunStart,
  nowMs: number = Date.now(),
): HollowReport {
  const n = Math.max(nodes.length, 1);
  const minutes = Math.max((nowMs - start.atMs) / 60_000, 1e-9);
  const perNode = [...counter.perNode.values()];
  const total = perNode.reduce((sum, c) => sum + c.total, 0);
  const open = perNode.reduce((sum, c) => sum + c.openWatches, 0);
  const cpu = process.cpuUsage(start.cpu);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rss = process.memoryUsage.rss();
  const byNode: HollowReport['requests']['byNode'] = {};
  for (const [name, c] of counter.perNode)
    byNode[name] = { total: c.total, byKind: Object.fromEntries(c.byKind) };
  const byKind = [...sumByKind(perNode)].sort(([a], [b]) => a.localeCompare(b));
  return {
    nodes: nodes.length,
    morph,
    elapsedSeconds: round((nowMs - start.atMs) / 1000, 1),
    podsRunning: podsRunning(nodes),
    requests: {
      total,
      perNodePerMinute: round(total / n / minutes),
      perNodePerMinuteByKind: Object.fromEntries(byKind.map(([k, c]) => [k, round(c / n / minutes)])),
      byNode,
    },
    watches: { open, perNode: round(open / n, 2) },
    process: {
      rssBytes: rss,
      rssBytesPerNode: Math.round(rss / n),
      cpuSeconds: round(cpuSeconds),
      cpuSecondsPerNodePerMinute: round(cpuSeconds / n / minutes, 4),
    },
  };
}
