/**
 * Memory of the nodeagent-kubelet single executable as operators run it, read at the moments
 * issue #20 compares with upstream: against a real containerd (tools/containerd, in its own
 * network namespace) idle 10/30/60/90 s after start, then 5 and 30 s after 10 pods reached
 * Running; on the fake CRI runtime of @nodeagent/cri-client idle 30 s after start, then 5 and
 * 30 s after 100 pods reached Running (pods created through the in-process API server of
 * @nodeagent/testing). Compared with baselines measured in the same run on the same node
 * binary: a bare `node -e` and a process that only imports @kubernetes/client-node. Each
 * reading splits RSS into anonymous and file-backed pages and gives the V8 heap.
 * Results: bench-results/kubelet-rss.json.
 *
 * Environment: NA_RSS_KUBELET (which runs, default "containerd,fake"), NA_RSS_BINARY (measure
 * this executable instead of building one), NA_RSS_NODE_OPTIONS (extra node/V8 flags for the
 * kubelet, to try settings), NA_RSS_HEAPSNAPSHOT=1 (also write heap snapshots to
 * bench-results/heap/). The containerd run needs root.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, processMemory, startApiServer } from '@nodeagent/testing';

const { measureBaselines, measureProcess, reporterEnv, sleep, summary, waitFor } = processMemory;
type ProcessMemory = processMemory.ProcessMemory;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const IMAGE = 'localhost/nodeagent/busybox:1.0';

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type NodeRuntime = { ensureNode24(): { node: string } };
type Containerd = {
  startContainerd(): Promise<{
    endpoint: string;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Kubelet {
  child: ChildProcess;
  env: Record<string, string>;
  stderr: () => string;
}

/** Starts the kubelet against `endpoint` and waits until it registered its Node. */
async function startKubelet(
  binary: string,
  dir: string,
  api: ApiServer,
  endpoint: string,
  nodeName: string,
): Promise<Kubelet> {
  const home = mkdtempSync(join(dir, `${nodeName}-`));
  api.writeKubeconfig(join(home, 'kubeconfig'));
  writeFileSync(
    join(home, 'config.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodLogsDir: ${join(home, 'logs')}\naddress: 127.0.0.1\nmaxPods: 200\n`,
  );
  const env = reporterEnv(dir, nodeName, join(repoRoot, 'bench-results', 'heap'));
  let stderr = '';
  const child = spawn(
    binary,
    [
      '--config',
      join(home, 'config.yaml'),
      '--kubeconfig',
      join(home, 'kubeconfig'),
      '--hostname-override',
      nodeName,
      '--node-ip',
      '127.0.0.1',
      '--root-dir',
      join(home, 'root'),
      `--container-runtime-endpoint=${endpoint}`,
      `--port=${await freePort()}`,
      '--healthz-port=0',
      // No kubepods QoS cgroups: the bench kills the kubelet and must leave the host's cgroups alone.
      '--cgroups-per-qos=false',
      // Upstream refuses enforceNodeAllocatable (default [pods]) without the QoS cgroups.
      '--enforce-node-allocatable=',
      // failCgroupV1 defaults to true (v1.35+): the bench hosts may be cgroup v1.
      '--fail-cgroupv1=false',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`kubelet exited: ${stderr}`);
      return (await core.readNode({ name: nodeName })).metadata?.name;
    },
    60_000,
    `Node ${nodeName}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  return { child, env, stderr: () => stderr };
}

async function stopKubelet(k: Kubelet | undefined): Promise<void> {
  if (!k || k.child.exitCode !== null) return;
  const exited = new Promise((resolve) => k.child.once('exit', resolve));
  k.child.kill('SIGKILL');
  await exited;
}

/** Creates pods bench-<from>..bench-<to-1> on `nodeName` and waits until `to` of them are Running. */
async function runPods(
  api: ApiServer,
  nodeName: string,
  image: string,
  from: number,
  to: number,
): Promise<void> {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  for (let i = from; i < to; i++) {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: `bench-${i}`, labels: { app: 'bench' } },
        spec: {
          nodeName,
          containers: [{ name: 'app', image, command: ['sh', '-c', 'sleep 3600'] }],
        },
      },
    });
  }
  await waitFor(
    async () => {
      const list = await core.listNamespacedPod({ namespace: 'default' });
      return list.items.filter((p) => p.status?.phase === 'Running').length >= to ? true : undefined;
    },
    300_000,
    `${to} Running pods`,
  );
}

/** One reading: the state, when it was taken, and the process's memory. */
interface Reading {
  state: string;
  /** What `atSeconds` counts from: the kubelet's start, or the moment the pods were all Running. */
  after: 'start' | 'running';
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
    kubelet = await startKubelet(binary, dir, api, fake.endpoint, 'bench-fake');
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

/**
 * A real containerd (in its own network namespace; the pods' sandboxes get theirs from its CNI):
 * idle 10/30/60/90 s after the kubelet started, then 10 busybox pods, 5 and 30 s after they all
 * reached Running.
 */
async function containerdRuns(binary: string, dir: string): Promise<Reading[]> {
  const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as Containerd;
  const containerd = await startContainerd();
  const api = await startApiServer();
  let kubelet: Kubelet | undefined;
  try {
    const started = performance.now();
    kubelet = await startKubelet(binary, dir, api, containerd.endpoint, 'bench-containerd');
    const out = await readAt(kubelet, started, 'idle', 'start', [10, 30, 60, 90]);
    const busybox = containerd.images?.busybox.name;
    if (!busybox) throw new Error('tools/containerd imported no busybox image');
    await runPods(api, 'bench-containerd', busybox, 0, 10);
    out.push(...(await readAt(kubelet, performance.now(), '10 pods', 'running', [5, 30], true)));
    return out;
  } finally {
    await stopKubelet(kubelet);
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
    const record = (runtime: string, readings: Reading[]) => {
      for (const { memory, ...r } of readings) {
        const run = { runtime, ...r, ...summary(memory), ...ratios(memory) };
        process.stderr.write(`${JSON.stringify(run)}\n`);
        runs.push(run);
      }
    };
    const cases = (process.env.NA_RSS_KUBELET ?? 'containerd,fake').split(',');
    if (cases.includes('containerd')) {
      if (process.getuid?.() !== 0)
        runs.push({ runtime: 'containerd', skipped: 'needs root for tools/containerd' });
      else record('containerd', await containerdRuns(binary, dir));
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
