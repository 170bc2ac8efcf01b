/**
 * Memory of the nodeagent-kubelet single executable as operators run it: idle (registered, no
 * pods), then with 30 and 100 pods Running on the fake CRI runtime of @nodeagent/cri-client
 * (pods created through the in-process API server of @nodeagent/testing), and idle against a
 * real containerd (tools/containerd). Compared with baselines measured in the same run on the
 * same node binary: a bare `node -e` and a process that only imports @kubernetes/client-node.
 * Results: bench-results/kubelet-rss.json.
 *
 * Environment: NA_RSS_BINARY (measure this executable instead of building one),
 * NA_RSS_NODE_OPTIONS (extra node/V8 flags for the kubelet, to try settings),
 * NA_RSS_HEAPSNAPSHOT=1 (also write heap snapshots to bench-results/heap/),
 * NA_RSS_CONTAINERD=0 (skip the containerd run). The containerd run needs root.
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
/** How long a state is left alone before it is measured (housekeeping and GC settle). */
const SETTLE_MS = 30_000;

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type NodeRuntime = { ensureNode24(): { node: string } };
type Containerd = {
  startContainerd(): Promise<{ endpoint: string; stop(): Promise<void> }>;
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

/** Idle, then 30 and 100 Running pods on the fake CRI runtime. */
async function fakeRuntimeRuns(binary: string, dir: string): Promise<Record<string, ProcessMemory>> {
  const api = await startApiServer();
  const fake = await FakeRuntime.start({ images: [{ ref: IMAGE }] });
  let kubelet: Kubelet | undefined;
  try {
    kubelet = await startKubelet(binary, dir, api, fake.endpoint, 'bench-fake');
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    await sleep(SETTLE_MS);
    const out: Record<string, ProcessMemory> = {
      '0': await measureProcess(kubelet.child.pid as number, kubelet.env),
    };
    let created = 0;
    for (const target of [30, 100]) {
      for (; created < target; created++) {
        await core.createNamespacedPod({
          namespace: 'default',
          body: {
            metadata: { name: `bench-${created}`, labels: { app: 'bench' } },
            spec: {
              nodeName: 'bench-fake',
              containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'sleep 3600'] }],
            },
          },
        });
      }
      await waitFor(
        async () => {
          const list = await core.listNamespacedPod({ namespace: 'default' });
          return list.items.filter((p) => p.status?.phase === 'Running').length >= target ? true : undefined;
        },
        180_000,
        `${target} Running pods`,
      );
      await sleep(SETTLE_MS);
      out[String(target)] = await measureProcess(kubelet.child.pid as number, kubelet.env, {
        last: target === 100,
      });
    }
    return out;
  } finally {
    await stopKubelet(kubelet);
    await fake.stop();
    await api.close();
  }
}

/** Idle against a real containerd. */
async function containerdIdle(binary: string, dir: string): Promise<ProcessMemory> {
  const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as Containerd;
  const containerd = await startContainerd();
  const api = await startApiServer();
  let kubelet: Kubelet | undefined;
  try {
    kubelet = await startKubelet(binary, dir, api, containerd.endpoint, 'bench-containerd');
    await sleep(SETTLE_MS);
    return await measureProcess(kubelet.child.pid as number, kubelet.env, { last: true });
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
    for (const [pods, m] of Object.entries(await fakeRuntimeRuns(binary, dir))) {
      const run = { runtime: 'fake CRI', pods: Number(pods), ...summary(m), ...ratios(m) };
      process.stderr.write(`${JSON.stringify(run)}\n`);
      runs.push(run);
    }
    if (process.env.NA_RSS_CONTAINERD !== '0') {
      if (process.getuid?.() !== 0) {
        runs.push({ runtime: 'containerd', skipped: 'needs root for tools/containerd' });
      } else {
        const m = await containerdIdle(binary, dir);
        const run = { runtime: 'containerd', pods: 0, ...summary(m), ...ratios(m) };
        process.stderr.write(`${JSON.stringify(run)}\n`);
        runs.push(run);
      }
    }
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
