import type { ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMemory, kubeconfigYaml, type Netns } from '@nodeagent/testing';
import { CLUSTER_CIDR, NODE_NAME } from './scale-cluster';
import { CPU_TICK_PRELOAD, CpuTickLog, withoutTicks } from './scale-cpu-ticks';
import { GC_TRACE_PRELOAD, type GcTraceTally, tallyGcTrace } from './scale-gc-trace';
import { GC_OBSERVER_PRELOAD, StageLog } from './scale-stages';

// The nodeagent-kube-proxy executable as the scale bench runs it: its own process in the
// bench's namespace, flags as an operator passes them, killed by the kernel if the bench dies
// (setpriv's parent-death signal survives the executable's exec of itself).

export const API_PORT = 6443;
export const METRICS_PORT = 10249;

/** A running daemon: its process (same pid as the executable: nsenter and setpriv exec it). */
export interface Daemon {
  child: ChildProcess;
  pid: number;
  /** Date.now() right before the spawn: "exec" in exec → first sync. */
  execAt: number;
  /** The tail of its stderr (for a failure's message). */
  log(): string;
  /** `--trace-gc` totals so far, when the daemon runs with it (DaemonOptions.gcTrace). */
  gc?: GcTraceTally;
  /** Its syncs' stage lines and GC pauses, when it runs with DaemonOptions.stages. */
  stages?: StageLog;
  /** Its CPU ticks, when it runs with DaemonOptions.cpuTicks. */
  ticks?: CpuTickLog;
  /** Its memory cgroup, when it runs in one of its own; stop() removes it. */
  cgroup?: cgroupMemory.MemoryCgroup;
  /** Rejects once the process exits (a daemon that dies early fails the scenario). */
  exited: Promise<never>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  binary: string;
  mode: string;
  dir: string;
  /** Extra NODE_OPTIONS (e.g. --cpu-prof); the bench's own (tsx's loader) are never passed on. */
  nodeOptions?: string;
  /** Run with `--trace-gc` and tally its lines from the daemon's stdout. */
  gcTrace?: boolean;
  /**
   * Called with each chunk of its stdout from the spawn on: a trace a preload in nodeOptions turns
   * on (the soak's `--trace-opt`), as KubeletStart.stdout is for the kubelet.
   */
  stdout?: (chunk: string) => void;
  /** Run with `-v=4 --logging-format=json` and a GC observer, collecting both (see scale-stages.ts). */
  stages?: boolean;
  /** Run with a preload logging its CPU every 25 ms, collected (see scale-cpu-ticks.ts). */
  cpuTicks?: boolean;
  /** `--kube-api-content-type` (KP_SCALE_CONTENT_TYPE); absent: the daemon's default, protobuf. */
  contentType?: string;
  /** A kubeconfig to use (the soak's, over HTTPS); absent: one for http://127.0.0.1:API_PORT. */
  kubeconfig?: string;
  /**
   * Runs setpriv (which execs the executable) through another command that execs it (a memory
   * cgroup's). Absent: it runs in a memory cgroup of its own (cgroupMemory.tryCreate).
   */
  wrap?: (command: string, args: string[]) => { command: string; args: string[] };
  /** Environment beside NODE_OPTIONS (the unit's Environment= lines). */
  env?: Record<string, string>;
}

function args(kubeconfig: string, mode: string): string[] {
  return [
    '--kubeconfig',
    kubeconfig,
    '--hostname-override',
    NODE_NAME,
    '--proxy-mode',
    mode,
    '--cluster-cidr',
    CLUSTER_CIDR,
    '--healthz-bind-address',
    '127.0.0.1:10256',
    '--metrics-bind-address',
    `127.0.0.1:${METRICS_PORT}`,
  ];
}

/** Starts the daemon in `ns` against the API server the namespace reaches at 127.0.0.1:API_PORT. */
export function startDaemon(ns: Netns, o: DaemonOptions): Daemon {
  const kubeconfig = o.kubeconfig ?? join(o.dir, 'kubeconfig');
  if (!o.kubeconfig) writeFileSync(kubeconfig, kubeconfigYaml(`http://127.0.0.1:${API_PORT}`));
  const gcPreload = join(o.dir, 'trace-gc.cjs');
  if (o.gcTrace) writeFileSync(gcPreload, GC_TRACE_PRELOAD);
  const stagePreload = join(o.dir, 'gc-observer.cjs');
  if (o.stages) writeFileSync(stagePreload, GC_OBSERVER_PRELOAD);
  const tickPreload = join(o.dir, 'cpu-ticks.cjs');
  if (o.cpuTicks) writeFileSync(tickPreload, CPU_TICK_PRELOAD);
  const nodeOptions = [
    o.nodeOptions,
    o.gcTrace ? `--require ${gcPreload}` : undefined,
    o.stages ? `--require ${stagePreload}` : undefined,
    o.cpuTicks ? `--require ${tickPreload}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const env = { ...process.env, ...o.env, NODE_OPTIONS: nodeOptions };
  const trace = process.env.KP_SCALE_TRACE ? `${process.env.KP_SCALE_TRACE}.daemon` : undefined;
  const extra = [...(trace || o.stages ? ['--v=4'] : []), ...(o.stages ? ['--logging-format', 'json'] : [])];
  const contentType = o.contentType ? ['--kube-api-content-type', o.contentType] : [];
  const execAt = Date.now();
  if (trace) appendFileSync(trace, `${execAt} exec\n`);
  const direct = {
    command: 'setpriv',
    args: ['--pdeathsig', 'KILL', '--', o.binary, ...args(kubeconfig, o.mode), ...contentType, ...extra],
  };
  const cgroup = o.wrap ? undefined : cgroupMemory.tryCreate('kube-proxy');
  // Its executable's pages then count in its cgroup, as on a node that just booted.
  if (cgroup) cgroupMemory.dropFromPageCache(o.binary);
  const wrap = o.wrap ?? cgroup?.wrap.bind(cgroup);
  const { command, args: argv } = wrap ? wrap(direct.command, direct.args) : direct;
  const child = ns.spawn(command, argv, {
    stdio: ['ignore', o.gcTrace || o.stdout ? 'pipe' : 'ignore', 'pipe'],
    env,
  });
  if (o.stdout) child.stdout?.setEncoding('utf8').on('data', o.stdout);
  const gc = o.gcTrace ? tallyGcTrace(child.stdout) : undefined;
  let tail = '';
  const stages = o.stages ? new StageLog() : undefined;
  const ticks = o.cpuTicks ? new CpuTickLog() : undefined;
  child.stderr?.on('data', (b: Buffer) => {
    const text = b.toString();
    stages?.push(text);
    ticks?.push(text);
    tail = (tail + (ticks ? withoutTicks(text) : text)).slice(-4000);
    if (trace) appendFileSync(trace, b);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`kube-proxy exited (${code ?? signal}):\n${tail}`)),
    ),
  );
  exited.catch(() => {});
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    await cgroup?.remove();
  };
  return {
    child,
    pid: child.pid as number,
    execAt,
    log: () => tail,
    ...(gc ? { gc } : {}),
    ...(stages ? { stages } : {}),
    ...(ticks ? { ticks } : {}),
    exited,
    stop,
    ...(cgroup ? { cgroup } : {}),
  };
}

/**
 * The working set, anon and the rest of the daemon's memory cgroup in MiB (cgroupMemory), or
 * undefined when it runs in none of its own: what the node charges, beside rss()'s VmRSS.
 */
export async function cgroupMiB(pid: number): Promise<cgroupMemory.CgroupMemorySummary | undefined> {
  const m = await cgroupMemory.readBenchCgroupOf(pid);
  return m ? cgroupMemory.cgroupSummary(m) : undefined;
}

/** VmRSS and VmHWM (peak) of `pid` in bytes. */
export function rss(pid: number): RssReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
  return {
    rssBytes: kb('VmRSS'),
    peakBytes: kb('VmHWM'),
    anonBytes: kb('RssAnon'),
    fileBytes: kb('RssFile'),
  };
}

/**
 * A process's resident memory from /proc/<pid>/status: the total, its peak, and the total's
 * anonymous part (heap, malloc, stacks: what the daemon's data costs) and file-backed part (the
 * executable's pages, which the executable's page release drops and a touch faults back).
 */
export interface RssReading {
  rssBytes: number;
  peakBytes: number;
  anonBytes: number;
  fileBytes: number;
}

/** The fields of /proc/<pid>/stat after the command's name (field 3, the state, is index 0). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds `pid` has used (load-independent, unlike wall time on a shared machine). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Minor page faults `pid` has taken: pages it touched again after the executable's memory trim
 * released them (file pages, malloc's trimmed free memory) or touched for the first time.
 */
export function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]);
}
