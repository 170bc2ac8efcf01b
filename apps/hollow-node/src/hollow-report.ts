import type { ApiServerUsage, ApiServerUsageSource } from './api-server-usage';
import type { HollowNode } from './hollow-node';
import type { NodeRequests, RequestCounter } from './request-counter';
import type { RestartWaveReport } from './restart-waves';

/** The API server's share of the run, or why it could not be read. */
export type ApiServerReport =
  | {
      /** Where it was read: `/metrics` (process_cpu_seconds_total) or `in-process`. */
      source: string;
      cpuSeconds: number;
      /** Cores the API server used over the run. */
      cpuCores: number;
      cpuSecondsPerNodePerMinute: number;
      /** Watches it serves now, every client's; null when it does not say. */
      watches: number | null;
    }
  | { source: string; error: string };

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
    /** Each node's total, its counts by "VERB resource" and the bytes on its connections. */
    byNode: Record<
      string,
      { total: number; byKind: Record<string, number>; bytesSent: number; bytesReceived: number }
    >;
  };
  /** Bytes on the nodes' connections (requests and answers, watch streams included). */
  bytes: { sent: number; received: number; sentPerNodePerMinute: number; receivedPerNodePerMinute: number };
  watches: { open: number; perNode: number };
  process: {
    rssBytes: number;
    rssBytesPerNode: number;
    cpuSeconds: number;
    cpuSecondsPerNodePerMinute: number;
  };
  apiServer: ApiServerReport;
  restartWaves: RestartWaveReport[];
}

/** Where the run started: wall time, the process's CPU and the API server's usage then. */
export interface RunStart {
  atMs: number;
  cpu: NodeJS.CpuUsage;
  /** The API server's usage at the start, or why it could not be read. */
  apiServer: ApiServerUsage | Error;
}

/** What a report reads. */
export interface ReportInputs {
  nodes: readonly HollowNode[];
  morph: string;
  counter: RequestCounter;
  start: RunStart;
  apiServer: ApiServerUsageSource;
  restartWaves: readonly RestartWaveReport[];
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

/** The API server's CPU over the run (now minus the start), per node per minute. */
async function apiServerReport(
  source: ApiServerUsageSource,
  atStart: ApiServerUsage | Error,
  n: number,
  minutes: number,
): Promise<ApiServerReport> {
  if (atStart instanceof Error) return { source: source.name, error: atStart.message };
  let now: ApiServerUsage;
  try {
    now = await source.read();
  } catch (error) {
    return { source: source.name, error: (error as Error).message };
  }
  const cpuSeconds = Math.max(0, now.cpuSeconds - atStart.cpuSeconds);
  return {
    source: source.name,
    cpuSeconds: round(cpuSeconds),
    cpuCores: round(cpuSeconds / (minutes * 60)),
    cpuSecondsPerNodePerMinute: round(cpuSeconds / n / minutes, 4),
    watches: now.watches ?? null,
  };
}

/** The report since the run's start: requests, bytes, watches, this process's RSS and CPU, the API server's CPU, the waves. */
export async function hollowReport(inputs: ReportInputs, nowMs: number = Date.now()): Promise<HollowReport> {
  const { nodes, counter, start } = inputs;
  const n = Math.max(nodes.length, 1);
  const minutes = Math.max((nowMs - start.atMs) / 60_000, 1e-9);
  const perNode = [...counter.perNode.values()];
  const total = perNode.reduce((sum, c) => sum + c.total, 0);
  const open = perNode.reduce((sum, c) => sum + c.openWatches, 0);
  const cpu = process.cpuUsage(start.cpu);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rss = process.memoryUsage.rss();
  const byNode: HollowReport['requests']['byNode'] = {};
  const bytes = { sent: 0, received: 0 };
  for (const [name, c] of counter.perNode) {
    const carried = c.bytes.totals();
    bytes.sent += carried.sent;
    bytes.received += carried.received;
    byNode[name] = {
      total: c.total,
      byKind: Object.fromEntries(c.byKind),
      bytesSent: carried.sent,
      bytesReceived: carried.received,
    };
  }
  const byKind = [...sumByKind(perNode)].sort(([a], [b]) => a.localeCompare(b));
  return {
    nodes: nodes.length,
    morph: inputs.morph,
    elapsedSeconds: round((nowMs - start.atMs) / 1000, 1),
    podsRunning: podsRunning(nodes),
    requests: {
      total,
      perNodePerMinute: round(total / n / minutes),
      perNodePerMinuteByKind: Object.fromEntries(byKind.map(([k, c]) => [k, round(c / n / minutes)])),
      byNode,
    },
    bytes: {
      ...bytes,
      sentPerNodePerMinute: Math.round(bytes.sent / n / minutes),
      receivedPerNodePerMinute: Math.round(bytes.received / n / minutes),
    },
    watches: { open, perNode: round(open / n, 2) },
    process: {
      rssBytes: rss,
      rssBytesPerNode: Math.round(rss / n),
      cpuSeconds: round(cpuSeconds),
      cpuSecondsPerNodePerMinute: round(cpuSeconds / n / minutes, 4),
    },
    apiServer: await apiServerReport(inputs.apiServer, start.apiServer, n, minutes),
    restartWaves: [...inputs.restartWaves],
  };
}
