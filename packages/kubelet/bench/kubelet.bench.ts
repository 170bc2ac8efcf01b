/**
 * Benchmarks for @nodeagent/kubelet, results in bench-results/kubelet.json:
 * 1. pure sync-path functions (tinybench), as ratios against a structuredClone of the pod;
 * 2. pod-start latency on a real containerd (tools/containerd, warm local image) with an
 *    in-process API server: 10 and 30 pods created at once through the API, create → Running
 *    as a watcher on the API server sees it (p50, p99, all Running), with per-phase medians and
 *    CRI calls per pod, against the raw CRI floor (RunPodSandbox + CreateContainer +
 *    StartContainer for the same pods straight through @nodeagent/cri-client) in the same run.
 *    Each is run all at once (the kubelet's default) and bounded to four starts per CPU
 *    (maxParallelPodStarts), 3 rounds interleaved, median round reported;
 * 3. readiness: 10 pods with an exec readiness probe (periodSeconds 2) created at once, create →
 *    all Running and create → all Ready as the watcher sees them, beside the CRI floor in the
 *    same rounds. Needs root; skipped with a note otherwise.
 * 4. in-place resize latency (bench/resize-latency.ts): a Guaranteed pod's CPU resized through
 *    pods/resize, PATCH → status settled, beside the CRI floor (UpdateContainerResources alone).
 * (The binary's RSS is measured by apps/kubelet/bench/rss.bench.ts.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCriClient } from '@nodeagent/cri-client';
import { coreV1Requests, Informer } from '@nodeagent/informer';
import { startApiServer } from '@nodeagent/testing';
import { Bench } from 'tinybench';
import type { Pod } from '../src/entries/api';
import { buildContainerConfig } from '../src/entries/cri';
import { computePodActions, containerHash, generatePodStatus } from '../src/entries/pod';
import { defaultMaxParallelPodStarts, type PodRuntimeStatus } from '../src/entries/runtime';
import {
  ApiPodSource,
  apiPodStatusWriter,
  criPodRuntime,
  Kubelet,
  PodObjectManager,
  parseKubeletConfiguration,
} from '../src/index';
import { benchNode, benchNodeName, isReady, isRunning, startContainerd, waitFor } from './bench-node';
import { removeAllSandboxes, startPodsThroughCri } from './cri-floor';
import { PhaseRecorder } from './pod-start-phases';
import { resizeLatencyOnContainerd } from './resize-latency';

/** Rounds per variant (NODEAGENT_BENCH_ROUNDS); the median round is reported. */
const ROUNDS = Number(process.env.NODEAGENT_BENCH_ROUNDS ?? 3);
/** How often (ms) the runs check what the watcher has seen. */
const POLL_MS = 5;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const results: Record<string, unknown> = { generatedAt: new Date().toISOString(), node: process.version };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(latencies: number[]) {
  return {
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    allRunningMs: Math.round(Math.max(...latencies)),
  };
}

function pickTimes(run: { allRunningMs: number; allReadyMs?: number; readyAfterRunningMaxMs?: number }) {
  return {
    allRunningMs: run.allRunningMs,
    allReadyMs: run.allReadyMs,
    readyAfterRunningMaxMs: run.readyAfterRunningMaxMs,
  };
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

// 2. Pod start on a real containerd, observed through the API server.
async function podStartOnContainerd(): Promise<void> {
  if (process.getuid?.() !== 0) {
    results.podStart = { skipped: 'needs root for tools/containerd' };
    return;
  }
  const containerd = await startContainerd();
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), `na-kubelet-bench-${process.pid}-`));
  const client = await createCriClient({ endpoint: containerd.endpoint });
  // The requests the kubelet executable makes (run-kubelet.ts), status writes included.
  const core = coreV1Requests(api.kubeConfig());
  // The watcher: when each pod is first seen Running (every container running) in the API.
  const runningSeen = new Map<string, number>();
  const readySeen = new Map<string, number>();
  const watcher = new Informer<Pod>({
    kubeConfig: api.kubeConfig(),
    resource: { apiVersion: 'v1', plural: 'pods' },
  });
  const observe = (pod: Pod) => {
    const name = pod.metadata.name ?? '';
    if (!runningSeen.has(name) && isRunning(pod)) runningSeen.set(name, performance.now());
    if (!readySeen.has(name) && isReady(pod)) readySeen.set(name, performance.now());
  };
  watcher.onAdd(observe);
  watcher.onUpdate((_old, object) => observe(object));
  // The kubelet's default (unbounded, as upstream) and a bound of four starts per CPU.
  const bounded = 4 * availableParallelism();
  const runs: unknown[] = [];
  let round = 0;
  const podsFor = (count: number, prefix: string, readiness = false): Pod[] =>
    Array.from({ length: count }, (_, i) => ({
      metadata: { name: `${prefix}-${i}`, namespace: 'default', uid: `${prefix}-${process.pid}-${i}` },
      spec: {
        nodeName: benchNodeName,
        containers: [
          {
            name: 'app',
            image: containerd.images.busybox.name,
            command: ['sh', '-c', 'sleep 3600'],
            ...(readiness ? { readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 2 } } : {}),
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    }));

  const criFloor = async (count: number, parallel: number) => {
    const latencies = await startPodsThroughCri(client, podsFor(count, `floor${++round}`), {
      parallel,
      podLogsDir: join(dir, 'floor-logs'),
    });
    await removeAllSandboxes(client);
    return { parallel, ...summary(latencies) };
  };

  const kubeletRun = async (count: number, maxParallelPodStarts: number, readiness = false) => {
    const prefix = `k${++round}`;
    const pods = podsFor(count, prefix, readiness);
    const recorder = new PhaseRecorder();
    const objects = new PodObjectManager({ kubeConfig: api.kubeConfig(), core, resyncIntervalMs: 60_000 });
    const kubelet = new Kubelet({
      node: benchNode(join(dir, 'root')),
      runtime: recorder.wrapRuntime(criPodRuntime(client)),
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs'),
        volumePluginDir: join(dir, 'volume-plugins'),
      }).config,
      api: {
        objects,
        statusWriter: recorder.wrapWriter(apiPodStatusWriter(core)),
      },
      pacing: {
        maxParallelPodStarts,
      },
    });
    await kubelet.start();
    const source = new ApiPodSource(api.kubeConfig(), benchNodeName, {
      add: (pod) => {
        recorder.mark(pod.metadata.name ?? '', 'delivered');
        kubelet.addPod(pod);
      },
      update: (pod) => kubelet.updatePod(pod),
      remove: (pod) => kubelet.removePod(pod),
    });
    await source.start();
    try {
      const start = performance.now();
      recorder.restart(start);
      await Promise.all(
        pods.map((body) => core.createNamespacedPod({ namespace: 'default', body: body as never })),
      );
      const names = pods.map((pod) => pod.metadata.name!);
      await waitFor(
        () => names.every((name) => runningSeen.has(name)),
        180_000,
        `${count} pods Running`,
        POLL_MS,
      );
      const latencies = names.map((name) => runningSeen.get(name)! - start);
      for (const name of names) recorder.mark(name, 'watcherRunning', runningSeen.get(name));
      let ready: { allReadyMs: number; readyAfterRunningMaxMs: number } | undefined;
      if (readiness) {
        await waitFor(
          () => names.every((name) => readySeen.has(name)),
          180_000,
          `${count} pods Ready`,
          POLL_MS,
        );
        ready = {
          allReadyMs: Math.round(Math.max(...names.map((name) => readySeen.get(name)! - start))),
          readyAfterRunningMaxMs: Math.round(
            Math.max(...names.map((name) => readySeen.get(name)! - runningSeen.get(name)!)),
          ),
        };
      }
      const calls = Object.fromEntries(
        [...recorder.calls]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([method, n]) => [method, +(n / count).toFixed(2)]),
      );
      return {
        maxParallelPodStarts: Number.isFinite(maxParallelPodStarts) ? maxParallelPodStarts : 'unbounded',
        ...summary(latencies),
        ...ready,
        phaseMediansMs: recorder.medians(),
        criCallsPerPod: calls,
      };
    } finally {
      // Graceful deletion through the API: the kubelet stops the pods and deletes the objects.
      await Promise.all(
        pods.map((pod) => core.deleteNamespacedPod({ name: pod.metadata.name!, namespace: 'default' })),
      );
      await waitFor(() => kubelet.getPods().length === 0, 60_000, 'pods deleted', POLL_MS).catch(
        () => undefined,
      );
      await source.stop();
      await kubelet.settle().catch(() => undefined);
      await kubelet.stop();
      await objects.stop();
      await removeAllSandboxes(client);
    }
  };

  try {
    watcher.start();
    await watcher.waitForSync();
    // Warm-up: the first sandbox of a fresh containerd pays for loading the image and CNI.
    await criFloor(2, 2);
    for (const count of [10, 30]) {
      // The machine is shared: each variant runs ROUNDS times, interleaved in a rotating order,
      // and the median round (by all-Running time) is reported.
      const variants = {
        criFloor: () => criFloor(count, count),
        criFloorBounded: () => criFloor(count, bounded),
        kubelet: () => kubeletRun(count, defaultMaxParallelPodStarts()),
        kubeletBounded: () => kubeletRun(count, bounded),
      };
      type Name = keyof typeof variants;
      const names = Object.keys(variants) as Name[];
      const outcomes = new Map<Name, { allRunningMs: number }[]>(names.map((name) => [name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + r) % names.length]!;
          outcomes.get(name)!.push(await variants[name]());
        }
      }
      const median = <T extends { allRunningMs: number }>(
        name: Name,
      ): T & { allRunningMsPerRound: number[] } => {
        const all = outcomes.get(name)! as T[];
        const sorted = [...all].sort((a, b) => a.allRunningMs - b.allRunningMs);
        return {
          ...sorted[Math.floor((sorted.length - 1) / 2)]!,
          allRunningMsPerRound: all.map((o) => o.allRunningMs),
        };
      };
      const floor = median<Awaited<ReturnType<typeof criFloor>>>('criFloor');
      const kubelet = median<Awaited<ReturnType<typeof kubeletRun>>>('kubelet');
      runs.push({
        pods: count,
        criFloor: floor,
        criFloorBounded: median('criFloorBounded'),
        kubelet,
        kubeletBounded: median('kubeletBounded'),
        ratioToFloor: {
          p50: +(kubelet.p50Ms / floor.p50Ms).toFixed(2),
          allRunning: +(kubelet.allRunningMs / floor.allRunningMs).toFixed(2),
        },
      });
    }
    results.podStart = { cpus: availableParallelism(), rounds: ROUNDS, runs };

    // 3. Readiness: 10 pods with a readiness probe, all Running and all Ready, beside the floor.
    const readinessRounds: { criFloor: { allRunningMs: number }; kubelet: { allRunningMs: number } }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const floorFirst = r % 2 === 0;
      const floor = floorFirst ? await criFloor(10, 10) : undefined;
      const kubelet = await kubeletRun(10, defaultMaxParallelPodStarts(), true);
      readinessRounds.push({ criFloor: floor ?? (await criFloor(10, 10)), kubelet });
    }
    const medianBy = <T>(values: T[], key: (v: T) => number): T =>
      [...values].sort((a, b) => key(a) - key(b))[Math.floor((values.length - 1) / 2)]!;
    const readinessMedian = medianBy(readinessRounds, (r) => r.kubelet.allRunningMs);
    results.readiness = {
      pods: 10,
      probe: 'exec /bin/true, periodSeconds 2',
      rounds: ROUNDS,
      criFloor: medianBy(
        readinessRounds.map((r) => r.criFloor),
        (f) => f.allRunningMs,
      ),
      kubelet: readinessMedian.kubelet,
      perRound: readinessRounds.map((r) => ({
        criFloorAllRunningMs: r.criFloor.allRunningMs,
        ...pickTimes(r.kubelet),
      })),
    };
  } finally {
    await watcher.stop();
    client.close();
    await api.close();
    await containerd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await pureFunctions();
await podStartOnContainerd();
// 4. In-place resize: PATCH pods/resize → status settled, beside the raw UpdateContainerResources.
results.resize = await resizeLatencyOnContainerd();
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'kubelet.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
