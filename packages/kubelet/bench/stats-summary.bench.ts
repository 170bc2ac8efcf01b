/**
 * /stats/summary assembly cost, results in bench-results/kubelet-stats.json: building the pods[]
 * of a full node (110 pods × 2 containers, upstream's default maxPods) from canned CRI answers,
 * and a whole CriSummaryProvider round (node figures from canned /proc text, log and volume
 * directories absent), each as a ratio to JSON.stringify of the summary it produces — the work
 * the server does anyway to send it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type Container,
  ContainerState,
  type ContainerStats,
  type PodSandbox,
  PodSandboxState,
} from '@nodeagent/cri-client/types';
import { Bench } from 'tinybench';
import { assemblePodStats, CpuRateTracker, type CriStatsSource } from '../src/entries/stats';
import { CriSummaryProvider } from '../src/index';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pods = 110;
const u = (value: number) => ({ value: BigInt(value) });
const sandboxes: PodSandbox[] = [];
const containers: Container[] = [];
const stats: ContainerStats[] = [];
let t = 1_700_000_000_000_000_000n;
for (let p = 0; p < pods; p++) {
  const labels = {
    'io.kubernetes.pod.name': `pod-${p}`,
    'io.kubernetes.pod.namespace': 'default',
    'io.kubernetes.pod.uid': `uid-${p}`,
  };
  sandboxes.push({
    id: `s${p}`,
    metadata: null,
    state: PodSandboxState.SANDBOX_READY,
    createdAt: t,
    labels,
    annotations: {},
    runtimeHandler: '',
  });
  for (const name of ['app', 'sidecar']) {
    const id = `c${p}-${name}`;
    containers.push({
      id,
      podSandboxId: `s${p}`,
      metadata: { name, attempt: 0 },
      image: null,
      imageRef: '',
      state: ContainerState.CONTAINER_RUNNING,
      createdAt: t,
      labels: {},
      annotations: {},
      imageId: '',
    });
    stats.push({
      attributes: { id, metadata: null, labels: {}, annotations: {} },
      cpu: { timestamp: t, usageCoreNanoSeconds: u(p * 1000), usageNanoCores: null },
      memory: {
        timestamp: t,
        workingSetBytes: u(1 << 20),
        availableBytes: null,
        usageBytes: u(2 << 20),
        rssBytes: u(1 << 19),
        pageFaults: u(10),
        majorPageFaults: u(0),
      },
      writableLayer: { timestamp: t, fsId: null, usedBytes: u(4096), inodesUsed: u(4) },
      swap: null,
    });
  }
  t += 1_000_000n;
}

const cri = {
  listPodSandbox: async () => ({ items: sandboxes }),
  listContainers: async () => ({ containers }),
  listContainerStats: async () => ({ stats }),
  listPodSandboxStats: async () => ({ stats: [] }),
  imageFsInfo: async () => ({ imageFilesystems: [], containerFilesystems: [] }),
} as unknown as CriStatsSource;
const proc: Record<string, string> = {
  meminfo: 'MemTotal: 8000000 kB\nMemFree: 3000000 kB\nInactive(file): 1000000 kB\n',
  stat: 'cpu  250 0 100 9999 50 0 0 0 0 0\n',
  uptime: '3600.5 7000\n',
  'net/dev': '  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n',
  'sys/kernel/pid_max': '4194304\n',
  'sys/kernel/threads-max': '63000\n',
  loadavg: '0.1 0.2 0.3 2/345 999\n',
};
const provider = new CriSummaryProvider({
  nodeName: 'bench',
  rootDir: '/nonexistent-nodeagent-bench/root',
  podLogsDir: '/nonexistent-nodeagent-bench/logs',
  cri,
  sources: {
    readProc: async (path) => proc[path] ?? '',
    statfs: async () => ({ bsize: 4096, blocks: 1000, bfree: 500, bavail: 400, files: 100, ffree: 50 }),
  },
});

const inputs = () => ({
  nowMs: Date.now(),
  sandboxes,
  containers,
  containerStats: stats,
  logUsage: new Map(),
  volumeUsage: new Map(),
  cpuRate: new CpuRateTracker(),
});
const sample = { node: await provider.nodeStats(), pods: assemblePodStats(inputs()) };

const bench = new Bench({ time: 1000 });
bench
  .add('baseline: JSON.stringify(summary)', () => {
    JSON.stringify(sample);
  })
  .add('assemblePodStats (110 pods × 2 containers)', () => {
    assemblePodStats(inputs());
  })
  .add('CriSummaryProvider.summary() (canned CRI and /proc)', async () => {
    await provider.summary();
  });
await bench.run();

const mean = (name: string): number => {
  const result = bench.tasks.find((task) => task.name === name)?.result as
    | { latency?: { mean: number } }
    | undefined;
  if (!result?.latency) throw new Error(`benchmark task ${name} did not complete`);
  return result.latency.mean;
};
const baseline = mean('baseline: JSON.stringify(summary)');
const results = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  pods,
  tasks: bench.tasks.map((task) => ({
    name: task.name,
    meanMs: Number(mean(task.name).toFixed(4)),
    ratioToBaseline: Number((mean(task.name) / baseline).toFixed(2)),
  })),
};
mkdirSync(`${root}bench-results`, { recursive: true });
writeFileSync(`${root}bench-results/kubelet-stats.json`, `${JSON.stringify(results, null, 2)}\n`);
console.table(results.tasks);
