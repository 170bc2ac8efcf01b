/**
 * CPU of the nodeagent-kubelet single executable as operators run it (issue #47): the built
 * executable as its own process, on a real containerd (tools/containerd, in its own network
 * namespace), against the in-process API server of @nodeagent/testing over HTTPS. For each pod
 * count (NA_CPU_PODS, default "0,110"; 0 is the idle node): the pods of issue #35's shape (one
 * busybox container running `sleep`, an exec readiness probe every 10 s) created at once, the
 * time until all are Ready, a settle of NA_CPU_SETTLE_S (20 s), then the kubelet process's own
 * CPU seconds (user + system, /proc/<pid>/stat) over a NA_CPU_WINDOW_S (60 s) window, its mean
 * RSS over it, containerd's own CPU beside it, and the CRI list replies' sizes after it
 * (cri-list-sizes.ts). Then, in the same run, the floor: the same
 * pods and probes straight through CRI from a process of their own
 * (packages/kubelet/bench/cri-probe-floor.ts), its CPU over the same window. Ratios: to the
 * floor, and to upstream v1.36.3's kubelet as issue #47 measured it (another day, a real
 * control plane: for orientation, not a same-session ratio).
 *
 * NA_CPU_BINARY measures that executable instead of building one; NA_CPU_PROFILE=<dir> runs the
 * kubelet with --cpu-prof into <dir> (written when it exits on SIGTERM after the last window);
 * NA_CPU_PROBE_PERIOD_S sets the probes' period (10 s); NA_CPU_NODE_OPTIONS adds node/V8 flags to the kubelet; NA_CPU_FLOOR=0 leaves the floor out (to
 * compare builds of the kubelet quickly). Needs root. Results:
 * bench-results/kubelet-cpu.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiServer, cgroupMemory, processMemory, startApiServer } from '@nodeagent/testing';
import { criListReplySizes, type ListReplySize } from './cri-list-sizes';
import { deletePods, type Kubelet, PodWatch, readyPods, startKubelet, stopKubelet } from './kubelet-process';

const { cpuSeconds, sleep, statusField } = processMemory;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Issue #47's upstream v1.36.3 kubelet, CPU seconds over 60 s: idle node, and 110 probed pods (two rounds). */
const UPSTREAM_CPU_60S = { 0: 0.39, 110: (3.99 + 4.43) / 2 } as Record<number, number>;

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type Containerd = {
  randomPodSubnet(prefixLength?: number): string;
  startContainerd(o?: { podSubnet?: string }): Promise<{
    endpoint: string;
    pid: number;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
};

const envSeconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000;
const SETTLE_MS = envSeconds('NA_CPU_SETTLE_S', 20);
const WINDOW_MS = envSeconds('NA_CPU_WINDOW_S', 60);
/**
 * The exec readiness probe's period (issue #35's shape: 10 s). At 500 pods a 10 s period is 50
 * `runc exec` a second, more than 2 cores' runtime can start whichever kubelet drives it; the
 * density point uses a longer period, the floor the same one.
 */
const PROBE_PERIOD_S = Number(process.env.NA_CPU_PROBE_PERIOD_S ?? 10);

/** One process's share of a window. */
interface WindowCpu {
  cpuSeconds: number;
  /** Of cpuSeconds, in the kernel (system time: page faults, syscalls). */
  systemSeconds: number;
  /** CPU seconds per thread name (Node's main thread, V8's workers, libuv's pool). */
  threads: Record<string, number>;
  containerdCpuSeconds: number;
  /**
   * Means over the window of the process's memory cgroup (a kubelet runs in one of its own; the
   * floor's process does not): the working set as cAdvisor computes it, and anon.
   */
  meanWorkingSetMiB?: number;
  meanAnonMiB?: number;
  meanRssMiB: number;
}

/** User and system seconds of each thread of `pid`, summed by thread name (/proc/<pid>/task/<tid>/stat). */
async function threadTimes(pid: number): Promise<Map<string, { user: number; system: number }>> {
  const out = new Map<string, { user: number; system: number }>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sum = out.get(name) ?? { user: 0, system: 0 };
    out.set(name, {
      user: sum.user + Number(fields[11]) / 100,
      system: sum.system + Number(fields[12]) / 100,
    });
  }
  return out;
}

const meanMiB = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length / 1048576;

/** CPU of `pid` and containerd over WINDOW_MS, and `pid`'s mean RSS (sampled every second). */
async function measureWindow(pid: number, containerdPid: number): Promise<WindowCpu> {
  const [cpu0, ctrd0, threads0] = [
    await cpuSeconds(pid),
    await cpuSeconds(containerdPid),
    await threadTimes(pid),
  ];
  const rss: number[] = [];
  const workingSet: number[] = [];
  const anon: number[] = [];
  const end = performance.now() + WINDOW_MS;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    const cgroup = await cgroupMemory.readBenchCgroupOf(pid);
    if (cgroup) {
      workingSet.push(cgroup.workingSetBytes);
      anon.push(cgroup.anonBytes);
    }
    rss.push(statusField(await readFile(`/proc/${pid}/status`, 'utf8'), 'VmRSS'));
  }
  const [cpu1, ctrd1, threads1] = [
    await cpuSeconds(pid),
    await cpuSeconds(containerdPid),
    await threadTimes(pid),
  ];
  const round = (n: number, digits = 2) => Number(n.toFixed(digits));
  const threads: Record<string, number> = {};
  let systemSeconds = 0;
  for (const [name, t1] of threads1) {
    const t0 = threads0.get(name) ?? { user: 0, system: 0 };
    threads[name] = round(t1.user + t1.system - t0.user - t0.system);
    systemSeconds += t1.system - t0.system;
  }
  return {
    cpuSeconds: round(cpu1 - cpu0),
    systemSeconds: round(systemSeconds),
    threads,
    containerdCpuSeconds: round(ctrd1 - ctrd0),
    ...(workingSet.length > 0
      ? { meanWorkingSetMiB: round(meanMiB(workingSet), 1), meanAnonMiB: round(meanMiB(anon), 1) }
      : {}),
    meanRssMiB: round(rss.reduce((a, b) => a + b, 0) / rss.length / 1048576, 1),
  };
}

/** The kubelet's figures at one pod count. */
interface KubeletPoint extends WindowCpu {
  pods: number;
  /** Create of the pods → all Ready (ms); 0 for the idle node. */
  readyMs: number;
  /** The CRI list replies' sizes after the window (cri-list-sizes.ts). */
  criListReplies: Record<string, ListReplySize>;
}

/** The executable at each pod count in turn (created at once, measured, deleted). */
async function kubeletRuns(
  binary: string,
  dir: string,
  counts: number[],
  containerd: Awaited<ReturnType<Containerd['startContainerd']>>,
  busybox: string,
): Promise<KubeletPoint[]> {
  // Over HTTPS (NA_CPU_TLS=0: HTTP), as a control plane serves its nodes; bookmarks about once a
  // minute, as kube-apiserver's watch cache sends them (the in-process server's default is every second).
  const api: ApiServer = await startApiServer({
    tls: process.env.NA_CPU_TLS !== '0',
    bookmarkIntervalMs: 60_000,
  });
  const watch = new PodWatch(api);
  const profileDir = process.env.NA_CPU_PROFILE;
  const nodeOptions = [
    ...(profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`] : []),
    ...(process.env.NA_CPU_NODE_OPTIONS ? [process.env.NA_CPU_NODE_OPTIONS] : []),
  ].join(' ');
  let kubelet: Kubelet | undefined;
  const out: KubeletPoint[] = [];
  try {
    await watch.start();
    kubelet = await startKubelet(binary, api, containerd.endpoint, 'bench-cpu', {
      dir,
      maxPods: Math.max(110, ...counts),
      env: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
    });
    const pid = kubelet.child.pid as number;
    for (const pods of counts) {
      const created = performance.now();
      if (pods > 0) await readyPods(api, watch, 'bench-cpu', busybox, 0, pods, PROBE_PERIOD_S);
      const readyMs = pods > 0 ? Math.round(performance.now() - created) : 0;
      await sleep(SETTLE_MS);
      if (kubelet.child.exitCode !== null) throw new Error(`kubelet exited: ${kubelet.stderr()}`);
      const window = await measureWindow(pid, containerd.pid);
      const criListReplies = await criListReplySizes(containerd.endpoint, repoRoot);
      const point = { pods, readyMs, ...window, criListReplies };
      process.stderr.write(`kubelet ${JSON.stringify(point)}\n`);
      out.push(point);
      if (pods > 0) await deletePods(api, watch, pods);
    }
    // SIGTERM: the kubelet exits on its own, which is when --cpu-prof writes the profile.
    await stopKubelet(kubelet, profileDir ? 'SIGTERM' : 'SIGKILL');
    return out;
  } finally {
    await stopKubelet(kubelet);
    await watch.stop();
    await api.close();
  }
}

/** The floor at `pods`: the same pods and probes straight through CRI, from a process of their own. */
async function floorRun(
  dir: string,
  pods: number,
  containerd: { endpoint: string; pid: number },
  busybox: string,
): Promise<WindowCpu> {
  const tsx = join(repoRoot, 'node_modules/.bin/tsx');
  const script = join(repoRoot, 'packages/kubelet/bench/cri-probe-floor.ts');
  const logs = mkdtempSync(join(dir, 'floor-logs-'));
  const child = spawn(
    tsx,
    [
      '--conditions=@nodeagent/source',
      script,
      containerd.endpoint,
      busybox,
      String(pods),
      logs,
      String(PROBE_PERIOD_S),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (b: Buffer) => {
        if (b.toString().startsWith('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`cri-probe-floor exited ${code}: ${stderr}`)));
    });
    await sleep(SETTLE_MS);
    // tsx runs the script in a child of its own: measure the process that holds the CRI client.
    const pid = await scriptPid(child.pid as number);
    return await measureWindow(pid, containerd.pid);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/** The deepest descendant of `pid` (tsx's runner, or `pid` itself when it runs the script in-process). */
async function scriptPid(pid: number): Promise<number> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim();
  const first = children.split(' ').filter(Boolean)[0];
  return first ? scriptPid(Number(first)) : pid;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the kubelet CPU bench needs root (tools/containerd)');
  const counts = (process.env.NA_CPU_PODS ?? '0,110').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), `na-kubelet-cpu-${process.pid}-`));
  const { startContainerd, randomPodSubnet } = (await import(
    join(repoRoot, 'tools/containerd/containerd.ts')
  )) as Containerd;
  // The CNI bridge's default /24 holds 253 pods; a /22 (1,021) for densities beyond it (issue #47's 500).
  const containerd = await startContainerd(
    counts.some((n) => n > 250) ? { podSubnet: randomPodSubnet(22) } : {},
  );
  try {
    const busybox = containerd.images?.busybox.name;
    if (!busybox) throw new Error('tools/containerd imported no busybox image');
    let binary = process.env.NA_CPU_BINARY;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
      binary = (await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kubelet'] }))[0]
        ?.path as string;
    }
    const kubelet = await kubeletRuns(binary, dir, counts, containerd, busybox);
    const points = [];
    for (const point of kubelet) {
      if (process.env.NA_CPU_FLOOR === '0') {
        points.push(point);
        continue;
      }
      const floor = await floorRun(dir, point.pods, containerd, busybox);
      process.stderr.write(`floor ${JSON.stringify({ pods: point.pods, ...floor })}\n`);
      // Issue #47 measured upstream with the 10 s probe only.
      const upstream = PROBE_PERIOD_S === 10 ? UPSTREAM_CPU_60S[point.pods] : undefined;
      const per60 = (point.cpuSeconds * 60_000) / WINDOW_MS;
      points.push({
        ...point,
        floor,
        ratioToFloor: Number((point.cpuSeconds / Math.max(floor.cpuSeconds, 0.01)).toFixed(2)),
        ...(upstream
          ? { upstreamCpuSeconds60s: upstream, ratioToUpstream: Number((per60 / upstream).toFixed(2)) }
          : {}),
      });
    }
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.NA_CPU_BINARY ?? 'nodeagent-kubelet single executable, built by this run',
      windowSeconds: WINDOW_MS / 1000,
      probePeriodSeconds: PROBE_PERIOD_S,
      settleSeconds: SETTLE_MS / 1000,
      points,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench-results', 'kubelet-cpu.json'), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await containerd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
