/**
 * Memory of the nodeagent-kubelet single executable as operators run it, read at the moments issues
 * #20 and #35 compare with upstream. Against a real containerd (tools/containerd, in its own
 * network namespace): idle 10/30/60/90 s after start; 5 and 30 s after 10 pods were Ready; 5 and 30
 * s after 110 (the default maxPods) were Ready; then all 110 deleted at once through the API, how
 * long until every API object is gone, and 2/10/30/60/90 s after that; beside the readings, the
 * mean RSS of samples every 270 ms idle (60-90 s), in the 30 s after the 110 were Ready, and 0-30
 * and 60-90 s after the delete (NA_RSS_TRACE=<file> writes the whole trace). The pods have issue
 * #35's shape: one busybox container running `sleep`, an exec readiness probe (`/bin/true`,
 * periodSeconds 10), terminationGracePeriodSeconds 1. On the fake CRI runtime of
 * @nodeagent/cri-client: idle 30 s after start, then 5 and 30 s after 100 plain pods reached
 * Running. Pods are created through the in-process API server of @nodeagent/testing. Compared with
 * baselines measured in the same run on the same node binary: a bare `node -e` and a process that
 * only imports @kubernetes/client-node. The kubelet runs in a memory cgroup of its own
 * (kubelet-process.ts): each reading gives the cgroup's working set and anon first (what the node
 * charges), then VmRSS split into anonymous and file-backed pages, and the V8 heap. Results: bench-results/kubelet-rss.json.
 *
 * Environment: NA_RSS_KUBELET (which runs, default "containerd,fake"), NA_RSS_BINARY (measure
 * this executable instead of building one), NA_RSS_NODE_OPTIONS (extra node/V8 flags for the
 * kubelet, to try settings), NA_RSS_HEAPSNAPSHOT=1 (also write a heap snapshot to
 * bench-results/heap/ at each run's last reading; on containerd `=110` takes it 30 s after the
 * 110 pods were Ready instead, `=idle` 90 s after start, which distorts every later reading:
 * for comparing heaps only). The containerd run needs root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, processMemory, startApiServer } from '@nodeagent/testing';
import {
  benchPod,
  deletePods,
  type Kubelet,
  MAX_PODS,
  PodWatch,
  readyPods,
  startKubelet,
  stopKubelet,
} from './kubelet-process';

const { measureBaselines, measureProcess, mib, reporterEnv, sleep, statusField, summary, waitFor } =
  processMemory;
type ProcessMemory = processMemory.ProcessMemory;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const IMAGE = 'localhost/nodeagent/busybox:1.0';
/** Upstream v1.36.3's kubelet RSS with 110 pods on containerd 1.6 (issue #35; MB = 10^6 bytes). */
const UPSTREAM_110_PODS_MB = 119;

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type NodeRuntime = { ensureNode24(): { node: string } };
type Containerd = {
  startContainerd(): Promise<{
    endpoint: string;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
};

/** Creates plain pods bench-<from>..bench-<to-1> on `nodeName` and waits until `to` of them are Running. */
async function runPods(
  api: ApiServer,
  nodeName: string,
  image: string,
  from: number,
  to: number,
): Promise<void> {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  for (let i = from; i < to; i++)
    await core.createNamespacedPod({ namespace: 'default', body: benchPod(nodeName, image, i, false) });
  await waitFor(
    async () => {
      const list = await core.listNamespacedPod({ namespace: 'default' });
      return list.items.filter((p) => p.status?.phase === 'Running').length >= to ? true : undefined;
    },
    300_000,
    `${to} Running pods`,
  );
}

/**
 * The trace's sampling period. Not a divisor of the heap trim's 1 s page-release cycle: sampled
 * once a second, every sample of a window landed at the same point of that cycle (right after a
 * release, or just before the next), and a window's file-backed mean came out 7 or 16 MiB by
 * that phase alone (the same kubelet, runs 27 and 28). At 270 ms the phase goes round the cycle
 * every 27 s, so a 30 s window's mean covers all of it.
 */
const TRACE_INTERVAL_MS = 270;

/**
 * The process's RSS every TRACE_INTERVAL_MS (VmRSS), for means over a window: a single reading
 * lands at some point of the heap trim's cycle (garbage since the last collection, file pages
 * touched since the last page release), which moves it by several MiB either way; a window's
 * mean does not.
 */
class RssTrace {
  private readonly samples: TraceSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number) {
    this.timer = setInterval(() => {
      readFile(`/proc/${pid}/status`, 'utf8')
        .then((status) => {
          this.samples.push({
            at: performance.now(),
            rss: statusField(status, 'VmRSS'),
            anon: statusField(status, 'RssAnon'),
            file: statusField(status, 'RssFile'),
          });
        })
        .catch(() => {}); // the process exited (or lingers as a zombie): the trace ends there
    }, TRACE_INTERVAL_MS);
  }

  /** Mean RSS, anonymous and file-backed (MiB), and the sample count from `from` to `to` (performance.now() ms). */
  mean(from: number, to: number): TraceMean {
    const inWindow = this.samples.filter((s) => s.at >= from && s.at <= to);
    const meanMiB = (pick: (s: TraceSample) => number) =>
      inWindow.length ? mib(inWindow.reduce((total, s) => total + pick(s), 0) / inWindow.length) : Number.NaN;
    return {
      rssMiB: meanMiB((s) => s.rss),
      anonMiB: meanMiB((s) => s.anon),
      fileMiB: meanMiB((s) => s.file),
      samples: inWindow.length,
    };
  }

  /** The samples as lines of seconds since `origin` and MiB (rss, anon, file), for reading a run by eye. */
  lines(origin: number): string {
    return this.samples
      .map((s) => [((s.at - origin) / 1000).toFixed(1), mib(s.rss), mib(s.anon), mib(s.file)].join(' '))
      .join('\n');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** One sample of the trace: when (performance.now() ms) and the RSS parts in bytes. */
interface TraceSample {
  at: number;
  rss: number;
  anon: number;
  file: number;
}

/** Means of the RSS trace over one window, in MiB. */
interface TraceMean {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  samples: number;
}

/** One reading: the state, when it was taken, and the process's memory. */
interface Reading {
  state: string;
  /**
   * What `atSeconds` counts from: the kubelet's start, the moment the pods were all Running (or
   * all Ready), or the moment the last deleted pod's API object was gone.
   */
  after: 'start' | 'running' | 'ready' | 'deleted';
  atSeconds: number;
  memory: ProcessMemory;
}

/** Reads the process `seconds` after `t0` (performance.now() milliseconds), in order. */
async function readAt(
  kubelet: Kubelet,
  t0: number,
  state: string,
  after: Reading['after'],
  seconds: readonly number[],
  last = false,
): Promise<Reading[]> {
  const out: Reading[] = [];
  for (const [i, s] of seconds.entries()) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    if (kubelet.child.exitCode !== null) throw new Error(`kubelet exited: ${kubelet.stderr()}`);
    const memory = await measureProcess(kubelet.child.pid as number, kubelet.env, {
      last: last && i === seconds.length - 1,
    });
    out.push({ state, after, atSeconds: s, memory });
  }
  return out;
}

/** Idle, then 100 Running pods on the fake CRI runtime (right after they run, and settled). */
async function fakeRuntimeRuns(binary: string, dir: string): Promise<Reading[]> {
  const api = await startApiServer();
  const fake = await FakeRuntime.start({ images: [{ ref: IMAGE }] });
  let kubelet: Kubelet | undefined;
  try {
    const started = performance.now();
    kubelet = await startKubelet(binary, api, fake.endpoint, 'bench-fake', {
      dir,
      env: reporterEnv(dir, 'bench-fake', join(repoRoot, 'bench-results', 'heap')),
    });
    const out = await readAt(kubelet, started, 'idle', 'start', [30]);
    await runPods(api, 'bench-fake', IMAGE, 0, 100);
    out.push(...(await readAt(kubelet, performance.now(), '100 pods', 'running', [5, 30], true)));
    return out;
  } finally {
    await stopKubelet(kubelet);
    await fake.stop();
    await api.close();
  }
}

/** What the containerd run measured besides the readings: how long 110 pods took to get Ready and to go. */
interface ContainerdTimes {
  /** Create of the last 100 (the first 10 already Ready) → all 110 Ready, ms. */
  readyMs: number;
  /** Delete of all 110 at once → the API server has none of them left, ms. */
  apiDeletedMs: number;
  /**
   * Mean RSS (samples every TRACE_INTERVAL_MS) idle from 60 to 90 s after start, in the 30 s
   * after the 110 pods were Ready, and from 0 to 30 s and from 60 to 90 s after their API objects
   * were gone (the later window as long after the delete as the idle one is after the start);
   * `ratio` is the first after-delete mean over the idle one (issue #35: within 1.10),
   * `ratio60to90s` the later one's, `anonRatio*` the same for anonymous memory alone (file-backed
   * pages move with the page release's timing by 10 MiB and more).
   */
  meanRss: {
    idle60to90s: TraceMean;
    ready0to30s: TraceMean;
    deleted0to30s: TraceMean;
    deleted60to90s: TraceMean;
    ratio: number;
    anonRatio: number;
    ratio60to90s: number;
    anonRatio60to90s: number;
  };
}

/**
 * A real containerd (in its own network namespace; the pods' sandboxes get theirs from its CNI):
 * idle 10/30/60/90 s after the kubelet started, 5 and 30 s after 10 pods were Ready, 5 and 30 s
 * after 110 were, then all 110 deleted: the time until their API objects are gone and readings
 * 2, 10 and 30 s after that.
 */
async function containerdRuns(
  binary: string,
  dir: string,
): Promise<{ readings: Reading[]; times: ContainerdTimes }> {
  const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as Containerd;
  const containerd = await startContainerd();
  const api = await startApiServer();
  const watch = new PodWatch(api);
  let kubelet: Kubelet | undefined;
  let trace: RssTrace | undefined;
  try {
    await watch.start();
    const started = performance.now();
    kubelet = await startKubelet(binary, api, containerd.endpoint, 'bench-containerd', {
      dir,
      env: reporterEnv(dir, 'bench-containerd', join(repoRoot, 'bench-results', 'heap')),
    });
    trace = new RssTrace(kubelet.child.pid as number);
    const snapshotAt = process.env.NA_RSS_HEAPSNAPSHOT;
    const out = await readAt(kubelet, started, 'idle', 'start', [10, 30, 60, 90], snapshotAt === 'idle');
    const busybox = containerd.images?.busybox.name;
    if (!busybox) throw new Error('tools/containerd imported no busybox image');
    await readyPods(api, watch, 'bench-containerd', busybox, 0, 10);
    out.push(...(await readAt(kubelet, performance.now(), '10 pods', 'ready', [5, 30])));
    const createdAt = performance.now();
    await readyPods(api, watch, 'bench-containerd', busybox, 10, MAX_PODS);
    const readyAt = performance.now();
    const readyMs = Math.round(readyAt - createdAt);
    const snapshotAt110 = snapshotAt === '110';
    out.push(
      ...(await readAt(kubelet, performance.now(), `${MAX_PODS} pods`, 'ready', [5, 30], snapshotAt110)),
    );
    const apiDeletedMs = await deletePods(api, watch, MAX_PODS);
    const deletedAt = performance.now();
    out.push(
      ...(await readAt(
        kubelet,
        performance.now(),
        `${MAX_PODS} deleted`,
        'deleted',
        [2, 10, 30, 60, 90],
        snapshotAt !== '110' && snapshotAt !== 'idle',
      )),
    );
    const idle = trace.mean(started + 60_000, started + 90_000);
    const deleted = trace.mean(deletedAt, deletedAt + 30_000);
    const later = trace.mean(deletedAt + 60_000, deletedAt + 90_000);
    const over = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const ready = trace.mean(readyAt, readyAt + 30_000);
    const meanRss = {
      idle60to90s: idle,
      ready0to30s: ready,
      deleted0to30s: deleted,
      deleted60to90s: later,
      ratio: over(deleted.rssMiB, idle.rssMiB),
      anonRatio: over(deleted.anonMiB, idle.anonMiB),
      ratio60to90s: over(later.rssMiB, idle.rssMiB),
      anonRatio60to90s: over(later.anonMiB, idle.anonMiB),
    };
    // NA_RSS_TRACE=<file>: the whole trace, each line "seconds-since-start rss anon file" (MiB).
    if (process.env.NA_RSS_TRACE) {
      const marks = `# ready at ${((readyAt - started) / 1000).toFixed(1)} s, deleted at ${((deletedAt - started) / 1000).toFixed(1)} s`;
      writeFileSync(process.env.NA_RSS_TRACE, `${marks}\n${trace.lines(started)}\n`);
    }
    return { readings: out, times: { readyMs, apiDeletedMs, meanRss } };
  } finally {
    trace?.stop();
    await stopKubelet(kubelet);
    await watch.stop();
    await api.close();
    await containerd.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `na-kubelet-rss-${process.pid}-`));
  const { ensureNode24 } = (await import(join(repoRoot, 'tools/sea/node-runtime.mjs'))) as NodeRuntime;
  try {
    let binary = process.env.NA_RSS_BINARY;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
      const built = await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kubelet'] });
      binary = built[0]?.path as string;
    }
    const baselines = await measureBaselines(ensureNode24().node, repoRoot, dir);
    const ratios = (m: ProcessMemory) => ({
      rssRatioToBareNode:
        Math.round((m.rssBytes / (baselines.bareNode as ProcessMemory).rssBytes) * 100) / 100,
      rssRatioToClientNodeImport:
        Math.round((m.rssBytes / (baselines.clientNodeImport as ProcessMemory).rssBytes) * 100) / 100,
    });
    const runs: Record<string, unknown>[] = [];
    // Issue #35: upstream v1.36.3's kubelet held 119 / 122 MB with 110 pods (its lower figure).
    const toUpstream = (m: ProcessMemory) => ({
      rssMB: Math.round(m.rssBytes / 1e5) / 10,
      rssRatioToUpstream110: Math.round((m.rssBytes / 1e6 / UPSTREAM_110_PODS_MB) * 100) / 100,
    });
    const record = (runtime: string, readings: Reading[]) => {
      for (const { memory, ...r } of readings) {
        const run = { runtime, ...r, ...summary(memory), ...ratios(memory), ...toUpstream(memory) };
        process.stderr.write(`${JSON.stringify(run)}\n`);
        runs.push(run);
      }
    };
    const cases = (process.env.NA_RSS_KUBELET ?? 'containerd,fake').split(',');
    if (cases.includes('containerd')) {
      if (process.getuid?.() !== 0)
        runs.push({ runtime: 'containerd', skipped: 'needs root for tools/containerd' });
      else {
        const { readings, times } = await containerdRuns(binary, dir);
        record('containerd', readings);
        runs.push({ runtime: 'containerd', pods: MAX_PODS, ...times });
        process.stderr.write(`${JSON.stringify(runs.at(-1))}\n`);
      }
    }
    if (cases.includes('fake')) record('fake CRI', await fakeRuntimeRuns(binary, dir));
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.NA_RSS_BINARY ?? 'nodeagent-kubelet single executable, built by this run',
      baselines: Object.fromEntries(Object.entries(baselines).map(([k, v]) => [k, summary(v)])),
      runs,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench-results', 'kubelet-rss.json'), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
