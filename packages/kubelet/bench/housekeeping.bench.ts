/**
 * Housekeeping benchmarks for @nodeagent/kubelet, results in bench-results/kubelet-housekeeping.json:
 * what one eviction pass costs (the 10 s steady state with no threshold met, and a pass that
 * ranks and evicts under memory pressure), ranking alone, and the pod cgroup's resource config.
 * Each is reported as a ratio against a baseline measured in the same run: a plain sort of the
 * same pods by uid (ranking, passes) or a structuredClone of the pod (resource config).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import type { Pod } from '../src/entries/api';
import { podResourceConfig } from '../src/entries/cgroups';
import { EvictionManager, evictionSettingsFromConfig, rankPodsForEviction } from '../src/entries/eviction';
import type { PodStats, Summary } from '../src/entries/stats';
import { parseKubeletConfiguration } from '../src/index';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const Mi = 1024 ** 2;
const time = '2025-01-01T00:00:00Z';

function makePods(count: number): { pods: Pod[]; stats: PodStats[] } {
  const pods: Pod[] = [];
  const stats: PodStats[] = [];
  for (let i = 0; i < count; i++) {
    const uid = `uid-${i}`;
    pods.push({
      metadata: { name: `pod-${i}`, namespace: 'default', uid },
      spec: {
        priority: i % 3 === 0 ? 1000 : 0,
        containers: [
          {
            name: 'app',
            image: 'busybox',
            resources: { requests: { cpu: '100m', memory: `${(i % 7) * 32}Mi` } },
          },
          { name: 'side', image: 'busybox', resources: { limits: { cpu: '50m', memory: '16Mi' } } },
        ],
      },
    });
    stats.push({
      podRef: { name: `pod-${i}`, namespace: 'default', uid },
      startTime: time,
      containers: [
        { name: 'app', startTime: time, memory: { time, workingSetBytes: ((i * 37) % 300) * Mi } },
        { name: 'side', startTime: time, memory: { time, workingSetBytes: 8 * Mi } },
      ],
    });
  }
  return { pods, stats };
}

function summary(memoryAvailable: number, pods: PodStats[]): Summary {
  return {
    node: {
      nodeName: 'bench',
      startTime: time,
      memory: { time, availableBytes: memoryAvailable, workingSetBytes: 8 * 1024 * Mi },
      fs: {
        time,
        availableBytes: 50 * 1024 * Mi,
        capacityBytes: 100 * 1024 * Mi,
        inodesFree: 9e5,
        inodes: 1e6,
      },
      runtime: { imageFs: { time, availableBytes: 50 * 1024 * Mi, capacityBytes: 100 * 1024 * Mi } },
      rlimit: { time, maxpid: 4_194_304, curproc: 900 },
    },
    pods,
  };
}

/** Mean latency (ms) of a finished task; tinybench's result union also covers aborted runs. */
function meanMs(bench: Bench, index: number): number {
  const result = bench.tasks[index]!.result as { latency?: { mean: number } } | undefined;
  if (!result?.latency) throw new Error(`benchmark task ${bench.tasks[index]!.name} did not complete`);
  return result.latency.mean;
}

function report(bench: Bench): Record<string, { meanUs: number; ratioToBaseline: number }> {
  const baseline = meanMs(bench, 0);
  return Object.fromEntries(
    bench.tasks.map((task, index) => [
      task.name,
      {
        meanUs: Number((meanMs(bench, index) * 1000).toFixed(2)),
        ratioToBaseline: Number((meanMs(bench, index) / baseline).toFixed(2)),
      },
    ]),
  );
}

const settings = evictionSettingsFromConfig(parseKubeletConfiguration({}).config);
const results: Record<string, unknown> = { generatedAt: new Date().toISOString(), node: process.version };

for (const count of [110, 1000]) {
  const { pods, stats } = makePods(count);
  const lookup = (pod: Pod) => stats[Number(pod.metadata.uid!.slice(4))];
  const calm = new EvictionManager({
    settings,
    summary: async () => summary(4 * 1024 * Mi, stats),
    activePods: () => pods,
    evictPod: () => true,
  });
  const pressured = new EvictionManager({
    settings,
    summary: async () => summary(50 * Mi, stats),
    activePods: () => pods,
    // Refuses, so every pass ranks all pods and builds a message for each candidate it tries.
    evictPod: () => false,
  });
  const bench = new Bench({ time: 400, warmupTime: 100 });
  bench
    .add('baseline: sort pods by uid', () => {
      [...pods].sort((a, b) => (a.metadata.uid! < b.metadata.uid! ? -1 : 1));
    })
    .add('rankPodsForEviction (memory)', () => {
      rankPodsForEviction(pods, 'memory', lookup);
    })
    .add('eviction pass, no threshold met', async () => {
      await calm.synchronize();
    })
    .add('eviction pass under memory pressure, every pod refused (worst case)', async () => {
      await pressured.synchronize();
    });
  await bench.run();
  results[`pods=${count}`] = report(bench);
}

{
  const pod = makePods(1).pods[0]!;
  const bench = new Bench({ time: 300, warmupTime: 100 });
  bench
    .add('baseline: structuredClone(pod)', () => {
      structuredClone(pod);
    })
    .add('podResourceConfig', () => {
      podResourceConfig(pod, { podPidsLimit: 1024 });
    });
  await bench.run();
  results.podResourceConfig = report(bench);
}

mkdirSync(`${root}bench-results`, { recursive: true });
writeFileSync(`${root}bench-results/kubelet-housekeeping.json`, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
