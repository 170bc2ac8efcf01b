/**
 * Start-up of the nodeagent-kubelet single executable (issue #51), as kubeadm starts a control
 * plane node: a static pod manifest in staticPodPath, a real containerd (tools/containerd, its
 * own network namespace), the in-process API server of @nodeagent/testing over HTTPS. Each run
 * (NA_STARTUP_RUNS, default 3) starts the executable with a fresh root dir and node name and
 * records, from exec:
 *   - the first line on stderr (and the CPU seconds by then), and the "kubelet started" line
 *     (upstream's "Started kubelet");
 *   - the static pod's container RUNNING in containerd (polled through CRI every 25 ms);
 *   - the process's CPU seconds (user + system, /proc/<pid>/stat) at each of those, and at 10 s;
 *   - its VmRSS at 10 s, and the machine's 1-minute load average as the run began;
 *   - CPU seconds per thread name at 1, 2, 5 and 9.5 s (/proc/<pid>/task/<tid>/stat, thread-cpu.ts).
 * The results also give each binary's median of every figure.
 * Between runs the sandboxes are removed through CRI, so each run starts its pod from nothing.
 *
 * NA_STARTUP_BINARY measures that executable instead of building one (several, comma-separated:
 * run i of each in turn, for an interleaved A/B; each run names its binary; an entry may start with
 * VAR=value words, set in that executable's environment only, e.g. `MALLOC_ARENA_MAX=1 /tmp/b`, as
 * deploy/systemd's unit starts it, and end with flags added to the kubelet's);
 * NA_STARTUP_SERVICES=<N> puts N Services in the API server first (the kube-proxy scale bench's,
 * managedFields included), the cluster-sized list the kubelet reads for service links;
 * NA_STARTUP_PROFILE=<dir>
 * writes a --cpu-prof of each start into <dir>; NA_STARTUP_LINES=1 echoes the kubelet's stderr
 * with each chunk's time from exec; NA_STARTUP_STDOUT=<dir> keeps each kubelet's stdout;
 * NA_STARTUP_LATE_MS adds a CPU and RSS reading that long after exec (cpuLateS, rssLateMiB,
 * anonLateMiB). After each round of starts the floor runs once (startup-floor.ts: the embedded
 * Node runtime making the serving pair's keys, then idle), and each binary's median CPU at 10 s is
 * also given over the floor's (`ratioToFloor`); NA_STARTUP_FLOOR=0 leaves it out. Needs root. Results:
 * bench-results/kubelet-startup.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CriClient } from '@nodeagent/cri-client';
import { ContainerState } from '@nodeagent/cri-client/types';
import { type ApiServer, processMemory, startApiServer } from '@nodeagent/testing';
import { populateServices } from '../../kube-proxy/bench/scale-cluster';
import { freePort, stopKubelet, sysctlRoot } from './kubelet-process';
import { type FloorRun, floorNode, floorRun } from './startup-floor';
import { threadCpuAt } from './thread-cpu';

const { cpuSeconds, sleep, statusField } = processMemory;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const RUNS = Number(process.env.NA_STARTUP_RUNS ?? 3);
/** The window the issue compares CPU over ("CPU during the first 10 s"). */
const CPU_WINDOW_MS = 10_000;
/** When the per-thread CPU is read (ms from exec): where the 10 s go after the first second. */
const THREAD_MARKS_MS = [1000, 2000, 5000, 9500];
/**
 * NA_STARTUP_LATE_MS: one more CPU reading that long after exec (cpuLateS), past V8's memory
 * reducer (8 s after the last mark-compact): whether a change saves work or only moves it past 10 s.
 */
const LATE_MS = process.env.NA_STARTUP_LATE_MS ? Number(process.env.NA_STARTUP_LATE_MS) : undefined;
/** NA_STARTUP_FLOOR=0: no floor runs (startup-floor.ts). */
const WITH_FLOOR = process.env.NA_STARTUP_FLOOR !== '0';
const SERVICES = Number(process.env.NA_STARTUP_SERVICES ?? 0);

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type Containerd = {
  startContainerd(): Promise<{
    endpoint: string;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
};

/** One start: milliseconds from exec and the process's CPU seconds at each point. */
interface StartupRun {
  /** Which executable (NA_STARTUP_BINARY's list). */
  binary: string;
  firstLogMs: number;
  /** CPU seconds when the first line arrived: what the start costs before it can say anything (less noisy than its time under load). */
  cpuAtFirstLogS: number;
  startedMs: number;
  cpuAtStartedS: number;
  staticPodRunningMs: number;
  cpuAtStaticPodS: number;
  cpuFirst10sS: number;
  /** CPU seconds at NA_STARTUP_LATE_MS, when set. */
  cpuLateS?: number;
  /** VmRSS at 10 s (MiB): what a change to the start costs in memory. */
  rssAt10sMiB: number;
  /** RssAnon at 10 s (MiB): VmRSS without the executable's file pages, which the heap trim drops every 10 s. */
  anonAt10sMiB: number;
  /** VmRSS and RssAnon at NA_STARTUP_LATE_MS (MiB), when set: whether a difference at 10 s lasts. */
  rssLateMiB?: number;
  anonLateMiB?: number;
  /** The machine's 1-minute load average when the run began: times from exec mean little under load. */
  load1: number;
  /** CPU seconds by thread name at each of THREAD_MARKS_MS (keyed "1s", "2s", ...; 9.5 s: before the kill). */
  threads: Record<string, Record<string, number>>;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/**
 * maxOpenFiles for the config: the open-files limit this process (and so the kubelet) already
 * has, when its soft and hard values agree. deploy/systemd gives the kubelet LimitNOFILE equal to
 * maxOpenFiles, so a packaged start finds the limit holding and makes no setrlimit call; this
 * bench's host may not allow the default (1000000) at all, so the config names the limit there is.
 */
function heldOpenFilesLimit(): string {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line?.split(/\s{2,}/).slice(1, 3) ?? [];
  return soft !== undefined && soft === hard && /^\d+$/.test(soft) ? `maxOpenFiles: ${soft}\n` : '';
}

/** The kubelet's home: kubeconfig, a config naming staticPodPath, one busybox static pod. */
function writeHome(api: ApiServer, dir: string, nodeName: string, busybox: string): string {
  const home = mkdtempSync(join(dir, `${nodeName}-`));
  const manifests = join(home, 'manifests');
  mkdirSync(manifests);
  api.writeKubeconfig(join(home, 'kubeconfig'));
  // makeIPTablesUtilChains false: the bench runs on the host's network and must leave its iptables alone.
  writeFileSync(
    join(home, 'config.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodLogsDir: ${join(home, 'logs')}\nvolumePluginDir: ${join(home, 'volume-plugins')}\naddress: 127.0.0.1\nstaticPodPath: ${manifests}\nmakeIPTablesUtilChains: false\n${heldOpenFilesLimit()}`,
  );
  writeFileSync(
    join(manifests, 'static.yaml'),
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\n  namespace: kube-system\nspec:\n  containers:\n  - name: app\n    image: ${busybox}\n    command: [sh, -c, sleep 3600]\n`,
  );
  return home;
}

/**
 * An NA_STARTUP_BINARY entry: leading VAR=value words for its environment, the path, then any
 * flags added to the kubelet's (`/tmp/b --kube-api-content-type=application/json`).
 */
function parseBinaryEntry(entry: string): { path: string; env: Record<string, string>; flags: string[] } {
  const words = entry.trim().split(/\s+/);
  const at = words.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  if (at < 0) throw new Error(`NA_STARTUP_BINARY: "${entry}" names no executable`);
  const env = Object.fromEntries(
    words.slice(0, at).map((word) => {
      const eq = word.indexOf('=');
      return [word.slice(0, eq), word.slice(eq + 1)];
    }),
  );
  return { path: words[at] as string, env, flags: words.slice(at + 1) };
}

function spawnKubelet(
  binary: string,
  home: string,
  nodeName: string,
  endpoint: string,
  port: number,
): ChildProcess {
  const stdout = stdoutFor(nodeName);
  const { path, env, flags } = parseBinaryEntry(binary);
  const child = spawn(
    path,
    [
      `--config=${join(home, 'config.yaml')}`,
      `--kubeconfig=${join(home, 'kubeconfig')}`,
      `--hostname-override=${nodeName}`,
      '--node-ip=127.0.0.1',
      `--root-dir=${join(home, 'root')}`,
      `--cert-dir=${join(home, 'pki')}`,
      `--container-runtime-endpoint=${endpoint}`,
      `--port=${port}`,
      '--healthz-port=0',
      // As kubelet-process.ts: leave the host's cgroups alone; cgroup v1 bench hosts.
      '--cgroups-per-qos=false',
      '--enforce-node-allocatable=',
      '--fail-cgroupv1=false',
      ...flags,
    ],
    // The kernel tunables from upstream's values in the repository, never the bench host's /proc/sys.
    {
      stdio: ['ignore', stdout, 'pipe'],
      env: { ...process.env, NODEAGENT_KUBELET_SYSCTL_ROOT: sysctlRoot, ...env, ...profileEnv() },
    },
  );
  if (typeof stdout === 'number') closeSync(stdout); // the child has its own copy
  return child;
}

/**
 * NA_STARTUP_STDOUT=<dir>: each kubelet's stdout into <dir>/<node name>.log (V8's `--trace-gc`
 * and the like print there; the flag goes into a build's execArgv, where the code cache still fits).
 */
function stdoutFor(nodeName: string): 'ignore' | number {
  const dir = process.env.NA_STARTUP_STDOUT;
  if (!dir) return 'ignore';
  mkdirSync(dir, { recursive: true });
  return openSync(join(dir, `${nodeName}.log`), 'w');
}

/** NA_STARTUP_PROFILE=<dir>: --cpu-prof of each kubelet into <dir> (written at its SIGTERM exit). */
function profileEnv(): Record<string, string> {
  const dir = process.env.NA_STARTUP_PROFILE;
  return dir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } : {};
}

/** Resolves with the time (ms from `t0`) of the first stderr line and of the line matching `started`. */
function watchLines(child: ChildProcess, t0: number, started: RegExp) {
  let tail = '';
  let first: number | undefined;
  let firstCpu: Promise<number> = Promise.resolve(Number.NaN);
  let onStarted: (ms: number) => void = () => undefined;
  const startedAt = new Promise<number>((resolve) => {
    onStarted = resolve;
  });
  child.stderr?.on('data', (b: Buffer) => {
    const now = performance.now() - t0;
    if (first === undefined) firstCpu = cpuSeconds(child.pid as number);
    first ??= now;
    tail = (tail + b.toString()).slice(-4000);
    if (started.test(tail)) onStarted(now);
    if (process.env.NA_STARTUP_LINES === '1')
      for (const line of b.toString().trimEnd().split('\n'))
        process.stderr.write(`${Math.round(now)} ms ${line}\n`);
  });
  return { firstMs: () => first ?? Number.NaN, firstCpu: () => firstCpu, startedAt, tail: () => tail };
}

/** The process's CPU seconds `ms` after `t0`. */
/** A /proc/<pid>/status size field in MiB, to 0.1. */
const mibOf = (status: string, field: string) => round(statusField(status, field) / 1048576, 1);

async function cpuAfter(pid: number, t0: number, ms: number): Promise<number> {
  await sleep(Math.max(0, ms - (performance.now() - t0)));
  return cpuSeconds(pid);
}

/** Until a container of `podName` runs in the runtime (ms from `t0`). */
async function staticPodRunning(cri: CriClient, podName: string, t0: number, child: ChildProcess) {
  for (;;) {
    if (child.exitCode !== null) throw new Error('kubelet exited before its static pod ran');
    const { containers } = await cri.listContainers({
      filter: { state: { state: ContainerState.CONTAINER_RUNNING } },
    });
    if (containers.some((c) => c.labels?.['io.kubernetes.pod.name'] === podName))
      return performance.now() - t0;
    await sleep(25);
  }
}

/** Every sandbox stopped and removed: the next run starts its pod from nothing. */
async function clearRuntime(cri: CriClient): Promise<void> {
  const { items } = await cri.listPodSandbox({});
  for (const s of items) {
    await cri.stopPodSandbox({ podSandboxId: s.id });
    await cri.removePodSandbox({ podSandboxId: s.id });
  }
}

async function oneRun(
  binary: string,
  api: ApiServer,
  cri: CriClient,
  endpoint: string,
  dir: string,
  run: { nodeName: string; busybox: string },
): Promise<StartupRun> {
  const home = writeHome(api, dir, run.nodeName, run.busybox);
  const port = await freePort();
  const load1 = round(loadavg()[0] ?? Number.NaN, 2);
  const t0 = performance.now();
  const child = spawnKubelet(binary, home, run.nodeName, endpoint, port);
  const pid = child.pid as number;
  const lines = watchLines(child, t0, /kubelet started/);
  const threads = threadCpuAt(pid, t0, THREAD_MARKS_MS);
  const kubelet = { child, env: {}, stderr: lines.tail };
  try {
    const startedMs = await Promise.race([
      lines.startedAt,
      new Promise<never>((_, reject) =>
        child.once('exit', () => reject(new Error(`kubelet exited: ${lines.tail()}`))),
      ),
    ]);
    const cpuAtStartedS = await cpuSeconds(pid);
    const staticPodRunningMs = await staticPodRunning(cri, `static-${run.nodeName}`, t0, child);
    const cpuAtStaticPodS = await cpuSeconds(pid);
    await sleep(Math.max(0, CPU_WINDOW_MS - (performance.now() - t0)));
    const cpuFirst10sS = await cpuSeconds(pid);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const late = LATE_MS === undefined ? undefined : await cpuAfter(pid, t0, LATE_MS);
    const lateStatus = late === undefined ? undefined : await readFile(`/proc/${pid}/status`, 'utf8');
    return {
      binary,
      firstLogMs: Math.round(lines.firstMs()),
      cpuAtFirstLogS: round(await lines.firstCpu(), 2),
      startedMs: Math.round(startedMs),
      cpuAtStartedS: round(cpuAtStartedS, 2),
      staticPodRunningMs: Math.round(staticPodRunningMs),
      cpuAtStaticPodS: round(cpuAtStaticPodS, 2),
      cpuFirst10sS: round(cpuFirst10sS, 2),
      ...(late === undefined ? {} : { cpuLateS: round(late, 2) }),
      rssAt10sMiB: mibOf(status, 'VmRSS'),
      anonAt10sMiB: mibOf(status, 'RssAnon'),
      ...(lateStatus === undefined
        ? {}
        : { rssLateMiB: mibOf(lateStatus, 'VmRSS'), anonLateMiB: mibOf(lateStatus, 'RssAnon') }),
      load1,
      threads: await threads,
    };
  } finally {
    await stopKubelet(kubelet, process.env.NA_STARTUP_PROFILE ? 'SIGTERM' : 'SIGKILL');
    await stopKubelet(kubelet);
    await clearRuntime(cri);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Each binary's median of every figure (an A/B's summary; the runs stay below it). */
function mediansByBinary(runs: StartupRun[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const binary of new Set(runs.map((run) => run.binary))) {
    const mine = runs.filter((run) => run.binary === binary);
    const fields = Object.keys(mine[0] as StartupRun).filter(
      (key) => key !== 'binary' && key !== 'threads',
    ) as (keyof StartupRun)[];
    out[binary] = Object.fromEntries(
      fields.map((key) => [key, round(median(mine.map((run) => Number(run[key]))))]),
    );
  }
  return out;
}

/** The floor's medians (its runs beside them). */
function floorSummary(floorRuns: FloorRun[]) {
  const of = (key: keyof FloorRun) => round(median(floorRuns.map((run) => run[key])));
  return {
    what: 'the embedded Node runtime (MALLOC_ARENA_MAX=1) making two RSA-2048 keys, then idle',
    keysMs: of('keysMs'),
    cpuAtKeysS: of('cpuAtKeysS'),
    cpuFirst10sS: of('cpuFirst10sS'),
    runs: floorRuns,
  };
}

/** Each binary's medians with its CPU at 10 s over the floor's (both medians of this bench's runs). */
function overFloor(
  medians: Record<string, Record<string, number>>,
  floorRuns: FloorRun[],
): Record<string, Record<string, number>> {
  const floorCpu = median(floorRuns.map((run) => run.cpuFirst10sS));
  return Object.fromEntries(
    Object.entries(medians).map(([binary, figures]) => [
      binary,
      { ...figures, ratioToFloor: round(Number(figures.cpuFirst10sS) / floorCpu, 2) },
    ]),
  );
}

async function buildKubelet(dir: string): Promise<string> {
  const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
  return (await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kubelet'] }))[0]?.path as string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the kubelet start-up bench needs root (tools/containerd)');
  const dir = mkdtempSync(join(tmpdir(), `na-kubelet-startup-${process.pid}-`));
  const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as Containerd;
  const containerd = await startContainerd();
  const api = await startApiServer({ tls: true, bookmarkIntervalMs: 60_000 });
  if (SERVICES > 0) populateServices(api, SERVICES);
  // Generous: at load ~140 a StopPodSandbox between runs took more than 10 s and ended the bench.
  const cri = new CriClient({ endpoint: containerd.endpoint, timeoutMs: 60_000 });
  try {
    const busybox = containerd.images?.busybox.name;
    if (!busybox) throw new Error('tools/containerd imported no busybox image');
    const binaries = process.env.NA_STARTUP_BINARY?.split(',') ?? [await buildKubelet(dir)];
    const runs: StartupRun[] = [];
    const floorRuns: FloorRun[] = [];
    const node = WITH_FLOOR ? await floorNode(repoRoot) : undefined;
    for (let i = 0; i < RUNS; i++) {
      for (const [b, binary] of binaries.entries()) {
        const run = await oneRun(binary, api, cri, containerd.endpoint, dir, {
          nodeName: `bench-startup-${i}-${b}`,
          busybox,
        });
        process.stderr.write(`run ${i} ${JSON.stringify(run)}\n`);
        runs.push(run);
      }
      if (node === undefined) continue;
      const floor = await floorRun(node, CPU_WINDOW_MS, round(loadavg()[0] ?? Number.NaN, 2));
      process.stderr.write(`floor ${i} ${JSON.stringify(floor)}\n`);
      floorRuns.push(floor);
    }
    const medians = mediansByBinary(runs);
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.NA_STARTUP_BINARY ?? 'nodeagent-kubelet single executable, built by this run',
      medians: node === undefined ? medians : overFloor(medians, floorRuns),
      ...(node === undefined ? {} : { floor: floorSummary(floorRuns) }),
      runs,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(
      join(repoRoot, 'bench-results', 'kubelet-startup.json'),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    cri.close();
    await api.close();
    await containerd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
