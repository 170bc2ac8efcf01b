/**
 * Benchmarks for @nodeagent/kubelet, results in bench-results/kubelet.json:
 * 1. pure sync-path functions (tinybench), as ratios against a structuredClone of the pod;
 * 2. RSS of the nodeagent-kubelet process with 0, 30 and 100 pods on the fake CRI runtime,
 *    pods created through the in-process API server;
 * 3. 30 pods created at once on a warm image with a real containerd (tools/containerd):
 *    add → Running reported, p50/p99 (needs root; skipped with a note otherwise).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { startApiServer } from '@nodeagent/testing';
import { Bench } from 'tinybench';
import {
  buildContainerConfig,
  computePodActions,
  containerHash,
  criPodRuntime,
  generatePodStatus,
  Kubelet,
  type Pod,
  type PodRuntimeStatus,
  parseKubeletConfiguration,
} from '../src/index';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const results: Record<string, unknown> = { generatedAt: new Date().toISOString(), node: process.version };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// 1. Pure functions.
async function pureFunctions(): Promise<void> {
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
    spec: {
      initContainers: [
        { name: 'init', image: 'busybox' },
        { name: 'proxy', image: 'busybox', restartPolicy: 'Always' },
      ],
      containers: [1, 2, 3].map((i) => ({
        name: `c${i}`,
        image: 'busybox',
        command: ['sh', '-c', 'sleep 3600'],
        env: [{ name: 'A', value: '1' }],
        ports: [{ containerPort: 8000 + i }],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      })),
    },
  };
  const all = [...pod.spec.initContainers!, ...pod.spec.containers];
  const runtime: PodRuntimeStatus = {
    uid: 'u1',
    name: 'web',
    namespace: 'default',
    sandboxes: [{ id: 'sb', attempt: 0, ready: true, createdAt: 1, ips: ['10.0.0.1'], hostNetwork: false }],
    containers: all.map((c, i) => ({
      id: `id-${i}`,
      name: c.name,
      state: i === 0 ? ('exited' as const) : ('running' as const),
      exitCode: 0,
      restartCount: 0,
      hash: containerHash(c),
      createdAt: 10 + i,
      startedAt: 10 + i,
      image: 'busybox',
      imageRef: 'sha256:x',
    })),
  };
  const bench = new Bench({ time: 500 });
  bench
    .add('baseline: structuredClone(pod)', () => {
      structuredClone(pod);
    })
    .add('computePodActions', () => {
      computePodActions(pod, runtime);
    })
    .add('generatePodStatus', () => {
      generatePodStatus(pod, runtime, { now: 1_700_000_000_000, hostIPs: ['192.168.0.1'] });
    })
    .add('buildContainerConfig', () => {
      buildContainerConfig(pod, pod.spec.containers[0]!, {
        restartCount: 0,
        env: [],
        volumes: new Map(),
        memoryCapacity: 4e9,
      });
    });
  await bench.run();
  const stats = (name: string) => {
    const result = bench.tasks.find((t) => t.name === name)!.result as {
      latency?: { mean: number };
      throughput?: { mean: number };
    };
    if (!result.latency || !result.throughput) throw new Error(`benchmark task ${name} did not complete`);
    return { latency: result.latency.mean, throughput: result.throughput.mean };
  };
  const baseline = stats('baseline: structuredClone(pod)').latency;
  results.pure = bench.tasks.map((task) => ({
    name: task.name,
    meanMs: stats(task.name).latency,
    opsPerSecond: stats(task.name).throughput,
    ratioToBaseline: stats(task.name).latency / baseline,
  }));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

// 2. RSS of the binary with 0, 30, 100 pods on the fake runtime.
async function rssWithFakeRuntime(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `na-kubelet-bench-${process.pid}-`));
  const api = await startApiServer();
  const fake = await FakeRuntime.start({ images: [{ ref: 'localhost/nodeagent/busybox:1.0' }] });
  let child: ChildProcess | undefined;
  try {
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    await writeFile(
      join(dir, 'config.yaml'),
      `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodLogsDir: ${join(dir, 'logs')}\naddress: 127.0.0.1\nmaxPods: 200\n`,
    );
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@nodeagent/source',
        join(root, 'apps/kubelet/src/cli.ts'),
        '--config',
        join(dir, 'config.yaml'),
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--hostname-override',
        'bench-node',
        '--node-ip',
        '127.0.0.1',
        '--root-dir',
        join(dir, 'root'),
        `--container-runtime-endpoint=${fake.endpoint}`,
        `--port=${await freePort()}`,
        '--healthz-port=0',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(async () => (await core.readNode({ name: 'bench-node' })).metadata?.name, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rss: Record<string, number> = { '0': await rssOf(child.pid!) };
    let created = 0;
    for (const target of [30, 100]) {
      for (; created < target; created++) {
        await core.createNamespacedPod({
          namespace: 'default',
          body: {
            metadata: { name: `bench-${created}` },
            spec: {
              nodeName: 'bench-node',
              containers: [
                {
                  name: 'app',
                  image: 'localhost/nodeagent/busybox:1.0',
                  command: ['sh', '-c', 'sleep 3600'],
                },
              ],
            },
          },
        });
      }
      await waitFor(async () => {
        const list = await core.listNamespacedPod({ namespace: 'default' });
        return list.items.filter((p) => p.status?.phase === 'Running').length >= target;
      }, 120_000);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      rss[String(target)] = await rssOf(child.pid!);
    }
    results.rssFakeRuntimeBytes = rss;
    results.rssFakeRuntimeMiB = Object.fromEntries(
      Object.entries(rss).map(([k, v]) => [k, Math.round(v / 1048576)]),
    );
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    await fake.stop();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// 3. 30 pods at once on a real containerd.
async function thirtyPodsOnContainerd(): Promise<void> {
  if (process.getuid?.() !== 0) {
    results.containerd30 = { skipped: 'needs root for tools/containerd' };
    return;
  }
  const toolsContainerd = join(root, 'tools/containerd/containerd.ts');
  const { startContainerd } = (await import(toolsContainerd)) as {
    startContainerd: () => Promise<{
      endpoint: string;
      images: { busybox: { name: string } };
      stop(): Promise<void>;
    }>;
  };
  const containerd = await startContainerd();
  const dir = await mkdtemp(join(tmpdir(), `na-kubelet-bench-ctrd-${process.pid}-`));
  const client = await createCriClient({ endpoint: containerd.endpoint });
  const kubelet = new Kubelet({
    nodeName: 'bench',
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({ podLogsDir: join(dir, 'logs') }).config,
    rootDir: join(dir, 'root'),
    hostIPs: ['192.168.80.2'],
    memoryCapacity: 4e9,
    relistPeriodMs: 1000,
  });
  const pods: Pod[] = Array.from({ length: 30 }, (_, i) => ({
    metadata: { name: `p${i}`, namespace: 'default', uid: `bench-${process.pid}-${i}` },
    spec: {
      containers: [
        { name: 'app', image: containerd.images.busybox.name, command: ['sh', '-c', 'sleep 3600'] },
      ],
      terminationGracePeriodSeconds: 1,
    },
  }));
  try {
    await kubelet.start();
    const rssBefore = process.memoryUsage().rss;
    const start = performance.now();
    const runningAt = new Map<string, number>();
    for (const pod of pods) kubelet.addPod(pod);
    await waitFor(async () => {
      for (const pod of pods) {
        if (
          !runningAt.has(pod.metadata.uid!) &&
          kubelet.getPodStatus(pod.metadata.uid!)?.phase === 'Running'
        ) {
          runningAt.set(pod.metadata.uid!, performance.now() - start);
        }
      }
      return runningAt.size === pods.length;
    }, 180_000);
    const latencies = [...runningAt.values()];
    results.containerd30 = {
      pods: pods.length,
      createToRunningP50Ms: Math.round(percentile(latencies, 50)),
      createToRunningP99Ms: Math.round(percentile(latencies, 99)),
      allRunningMs: Math.round(Math.max(...latencies)),
      inProcessRssBeforeMiB: Math.round(rssBefore / 1048576),
      inProcessRssAt30MiB: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    for (const pod of pods) kubelet.removePod(pod);
    await kubelet.settle().catch(() => undefined);
    await kubelet.stop();
    client.close();
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await pureFunctions();
await rssWithFakeRuntime();
await thirtyPodsOnContainerd();
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'kubelet.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
