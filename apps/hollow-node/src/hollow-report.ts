import { type ApiCostProfile, apiCostProfile } from './api-cost-profile';
import type { ApiServerUsage, ApiServerUsageSource } from './api-server-usage';
import type { HollowNode } from './hollow-node';
import { addWorkloads, nodeWorkload } from './node-workload';
import type { RequestCounter } from './request-counter';
import type { RestartWaveReport } from './restart-waves';
import { type NodeWorkload, upstreamApiProfile } from './upstream-api-profile';

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
  /**
   * The nodes' connections to the API server: open now, and opened since the start (each a TCP
   * connection and, over TLS, a handshake the API server pays for).
   */
  connections: { open: number; perNode: number; opened: number; openedPerNodePerMinute: number };
  process: {
    rssBytes: number;
    rssBytesPerNode: number;
    cpuSeconds: number;
    cpuSecondsPerNodePerMinute: number;
  };
  apiServer: ApiServerReport;
  /**
   * A node's requests by kind, watches and bytes since the start beside what upstream's kubelet
   * and kube-proxy would ask for the same pods (the mean node's pods, ConfigMaps and Secrets).
   */
  apiCostProfile: ApiCostProfile;
  restartWaves: RestartWaveReport[];
}

/** Where the run started: wall time, the process's CPU and the API server's usage then. */
export interface RunStart {
  atMs: number;
  cpu: NodeJS.CpuUsage;
  /** The API server's usage at the start, or why it could not be read. */
  apiServer: ApiServerUsage | Error;
}

/**
 * One node's counts as plain data: what a worker thread posts up to the parent, and what the
 * report sums (a Map and live sockets do not cross threads).
 */
export interface NodeCounts {
  total: number;
  byKind: Record<string, number>;
  openWatches: number;
  bytesSent: number;
  bytesReceived: number;
  /** Its connections open now, and opened since the start. */
  connectionsOpen: number;
  connectionsOpened: number;
}

/** The nodes' counts and running pods of one thread (this one's, or a worker's). */
export interface CountsSnapshot {
  /** By node name. */
  nodes: Record<string, NodeCounts>;
  podsRunning: number;
  /** The nodes' pods, summed (what upstream's profile is computed for). */
  workload: NodeWorkload;
}

/** The run's start: now, this process's CPU, and the API server's usage (or why it was not read). */
export async function readRunStart(apiServer: ApiServerUsageSource): Promise<RunStart> {
  return {
    atMs: Date.now(),
    cpu: process.cpuUsage(),
    apiServer: await apiServer
      .read()
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
  };
}

/** What a report reads: the counts of every node (every thread's, summed by the caller). */
export interface ReportInputs {
  nodeCount: number;
  morph: string;
  counts: CountsSnapshot;
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

/** This thread's nodes' counts and running pods, as plain data. */
export function countsSnapshot(nodes: readonly HollowNode[], counter: RequestCounter): CountsSnapshot {
  const counts: Record<string, NodeCounts> = {};
  for (const [name, c] of counter.perNode) {
    const carried = c.sockets.totals();
    counts[name] = {
      total: c.total,
      byKind: Object.fromEntries(c.byKind),
      openWatches: c.openWatches,
      bytesSent: carried.sent,
      bytesReceived: carried.received,
      connectionsOpen: c.sockets.open(),
      connectionsOpened: carried.opened,
    };
  }
  let workload: NodeWorkload = { pods: 0, tokenPods: 0, configMaps: 0, secrets: 0 };
  for (const node of nodes)
    workload = addWorkloads(workload, nodeWorkload(node.kubelet?.kubelet.getPods() ?? []));
  return { nodes: counts, podsRunning: podsRunning(nodes), workload };
}

/** Several threads' snapshots as one (each node is in exactly one). */
export function mergeSnapshots(snapshots: readonly CountsSnapshot[]): CountsSnapshot {
  const merged: CountsSnapshot = {
    nodes: {},
    podsRunning: 0,
    workload: { pods: 0, tokenPods: 0, configMaps: 0, secrets: 0 },
  };
  for (const snapshot of snapshots) {
    Object.assign(merged.nodes, snapshot.nodes);
    merged.podsRunning += snapshot.podsRunning;
    merged.workload = addWorkloads(merged.workload, snapshot.workload);
  }
  return merged;
}

function sumByKind(perNode: Iterable<NodeCounts>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const counts of perNode)
    for (const [kind, count] of Object.entries(counts.byKind)) sums.set(kind, (sums.get(kind) ?? 0) + count);
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

/**
 * The report since the run's start: requests, bytes, watches, connections, this process's RSS and CPU (every
 * thread's: the figures are the process's), the API server's CPU, the waves.
 */
export async function hollowReport(inputs: ReportInputs, nowMs: number = Date.now()): Promise<HollowReport> {
  const { counts, start } = inputs;
  const n = Math.max(inputs.nodeCount, 1);
  const minutes = Math.max((nowMs - start.atMs) / 60_000, 1e-9);
  const perNode = Object.values(counts.nodes);
  const total = perNode.reduce((sum, c) => sum + c.total, 0);
  const open = perNode.reduce((sum, c) => sum + c.openWatches, 0);
  const cpu = process.cpuUsage(start.cpu);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rss = process.memoryUsage.rss();
  const byNode: HollowReport['requests']['byNode'] = {};
  const bytes = { sent: 0, received: 0 };
  const connections = { open: 0, opened: 0 };
  for (const [name, c] of Object.entries(counts.nodes)) {
    bytes.sent += c.bytesSent;
    bytes.received += c.bytesReceived;
    connections.open += c.connectionsOpen;
    connections.opened += c.connectionsOpened;
    byNode[name] = {
      total: c.total,
      byKind: c.byKind,
      bytesSent: c.bytesSent,
      bytesReceived: c.bytesReceived,
    };
  }
  const byKind = [...sumByKind(perNode)].sort(([a], [b]) => a.localeCompare(b));
  const perNodePerMinuteByKind = Object.fromEntries(byKind.map(([k, c]) => [k, round(c / n / minutes)]));
  const sentPerNodePerMinute = Math.round(bytes.sent / n / minutes);
  const receivedPerNodePerMinute = Math.round(bytes.received / n / minutes);
  // The mean node's workload (rounded: the profile is per node).
  const mean = (value: number) => Math.round(value / n);
  const workload: NodeWorkload = {
    pods: mean(counts.workload.pods),
    tokenPods: mean(counts.workload.tokenPods),
    configMaps: mean(counts.workload.configMaps),
    secrets: mean(counts.workload.secrets),
  };
  return {
    nodes: inputs.nodeCount,
    morph: inputs.morph,
    elapsedSeconds: round((nowMs - start.atMs) / 1000, 1),
    podsRunning: counts.podsRunning,
    requests: {
      total,
      perNodePerMinute: round(total / n / minutes),
      perNodePerMinuteByKind,
      byNode,
    },
    bytes: {
      ...bytes,
      sentPerNodePerMinute,
      receivedPerNodePerMinute,
    },
    watches: { open, perNode: round(open / n, 2) },
    connections: {
      ...connections,
      perNode: round(connections.open / n, 2),
      openedPerNodePerMinute: round(connections.opened / n / minutes),
    },
    process: {
      rssBytes: rss,
      rssBytesPerNode: Math.round(rss / n),
      cpuSeconds: round(cpuSeconds),
      cpuSecondsPerNodePerMinute: round(cpuSeconds / n / minutes, 4),
    },
    apiServer: await apiServerReport(inputs.apiServer, start.apiServer, n, minutes),
    apiCostProfile: apiCostProfile(
      {
        byKind: perNodePerMinuteByKind,
        watches: round(open / n, 2),
        connections: round(connections.open / n, 2),
        windowSeconds: minutes * 60,
        bytesPerMinute: { sent: sentPerNodePerMinute, received: receivedPerNodePerMinute },
      },
      upstreamApiProfile(workload),
      workload,
    ),
    restartWaves: [...inputs.restartWaves],
  };
}
