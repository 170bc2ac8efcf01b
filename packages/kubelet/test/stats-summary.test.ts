import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriError } from '@nodeagent/cri-client';
import {
  type Container,
  ContainerState,
  type ContainerStats as CriContainerStats,
  type PodSandbox,
  PodSandboxState,
} from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCgroupPressure } from '../src/stats/cgroup-pressure';
import { CpuRateTracker } from '../src/stats/cpu-rate';
import type { CriStatsSource } from '../src/stats/cri-stats-source';
import type { HostSources, StatFsFigures } from '../src/stats/host-sources';
import { HostNodeStatsProvider } from '../src/stats/node-stats-provider';
import { assemblePodStats } from '../src/stats/pod-stats-assembly';
import { cpuUsageCoreNanoSeconds } from '../src/stats/proc-cpu';
import {
  nodeMemoryFromCgroupV1Root,
  nodeMemoryFromCgroupV2Root,
  nodeMemoryFromMeminfo,
} from '../src/stats/proc-meminfo';
import { parseNetDev } from '../src/stats/proc-net-dev';
import { StatsSourceError } from '../src/stats/stats-errors';
import { CriSummaryProvider, type CriSummaryProviderOptions } from '../src/stats/summary-provider';
import { maxTasks, runningTasks } from '../src/stats/task-limits';

const meminfo = [
  'MemTotal:        8000000 kB',
  'MemFree:         3000000 kB',
  'MemAvailable:    6000000 kB',
  'Inactive(file):  1000000 kB',
  'HugePages_Total:       0',
].join('\n');

function fakeProc(files: Record<string, string>): HostSources {
  const fs: StatFsFigures = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300, files: 500, ffree: 200 };
  return {
    readProc: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT ${path}`);
      return text;
    },
    statfs: async (path) => (path.startsWith('/images') ? { ...fs, bavail: 100 } : fs),
  };
}

const procFiles = (cpuTicks: number) => ({
  meminfo,
  // user nice system idle iowait irq softirq steal
  stat: `cpu  ${cpuTicks} 0 100 9999 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n`,
  uptime: '3600.50 7000.00\n',
  'net/dev': [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0',
    '  eth0:    1000      10    2    0    0     0          0         0     2000      20    3    0    0     0       0          0',
  ].join('\n'),
  'sys/kernel/pid_max': '4194304\n',
  'sys/kernel/threads-max': '63000\n',
  loadavg: '0.10 0.20 0.30 2/345 999\n',
});

const labels = (name: string, uid: string) => ({
  'io.kubernetes.pod.name': name,
  'io.kubernetes.pod.namespace': 'default',
  'io.kubernetes.pod.uid': uid,
});
const u = (value: number) => ({ value: BigInt(value) });
const sec = (s: number) => BigInt(s) * 1_000_000_000n;

function sandbox(
  id: string,
  name: string,
  state: PodSandboxState = PodSandboxState.SANDBOX_READY,
): PodSandbox {
  return {
    id,
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    state,
    createdAt: sec(1_700_000_000),
    labels: labels(name, `uid-${name}`),
    annotations: {},
    runtimeHandler: '',
  };
}

function container(
  id: string,
  sandboxId: string,
  name: string,
  state: ContainerState = ContainerState.CONTAINER_RUNNING,
): Container {
  return {
    id,
    podSandboxId: sandboxId,
    metadata: { name, attempt: 0 },
    image: null,
    imageRef: '',
    state,
    createdAt: sec(1_700_000_100),
    labels: {},
    annotations: {},
    imageId: '',
  };
}

function stats(id: string, cpuNs: number, memory: number, atS: number): CriContainerStats {
  return {
    attributes: { id, metadata: null, labels: {}, annotations: {} },
    cpu: { timestamp: sec(atS), usageCoreNanoSeconds: u(cpuNs), usageNanoCores: null },
    memory: {
      timestamp: sec(atS),
      workingSetBytes: u(memory),
      availableBytes: null,
      usageBytes: u(memory + 100),
      rssBytes: u(memory / 2),
      pageFaults: u(10),
      majorPageFaults: u(1),
    },
    writableLayer: { timestamp: sec(atS), fsId: null, usedBytes: u(4096), inodesUsed: u(3) },
    swap: null,
  };
}

describe('node figures from /proc', () => {
  it('derives working set and available memory the way eviction sees them', () => {
    expect(nodeMemoryFromMeminfo(meminfo)).toEqual({
      totalBytes: 8000000 * 1024,
      usageBytes: 5000000 * 1024,
      workingSetBytes: 4000000 * 1024,
      availableBytes: 4000000 * 1024,
    });
    expect(() => nodeMemoryFromMeminfo('garbage')).toThrow(StatsSourceError);
  });

  it('on cgroup v2 takes usage from the root memory.stat (anon + file), as libcontainer for cAdvisor', async () => {
    const rootStat = 'anon 1000000000\nfile 2000000000\ninactive_file 500000000\nslab 99\n';
    const v2 = {
      totalBytes: 8000000 * 1024,
      usageBytes: 3e9,
      workingSetBytes: 2.5e9,
      availableBytes: 8000000 * 1024 - 2.5e9,
    };
    expect(nodeMemoryFromCgroupV2Root(meminfo, rootStat)).toEqual(v2);
    expect(() => nodeMemoryFromCgroupV2Root(meminfo, 'slab 1\n')).toThrow(/anon\/file/);
    const provider = (readCgroupRoot: (file: string) => Promise<string>) =>
      new HostNodeStatsProvider({
        nodeName: 'n',
        rootDir: '/',
        sources: { ...fakeProc(procFiles(1)), readCgroupRoot },
      });
    const rootFiles: Record<string, string> = {
      'memory.stat': rootStat,
      'cpu.pressure':
        'some avg10=2.00 avg60=1.00 avg300=0.50 total=7000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
      'io.pressure':
        'some avg10=0.10 avg60=0.00 avg300=0.00 total=900\nfull avg10=0.10 avg60=0.00 avg300=0.00 total=800\n',
    };
    const onV2 = await provider(async (file) => {
      const text = rootFiles[file];
      if (text === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' });
      return text;
    }).nodeStats();
    expect(onV2.memory).toMatchObject({ usageBytes: v2.usageBytes, availableBytes: v2.availableBytes });
    // The root cgroup's PSI, where its files are (no memory.pressure here: none for memory).
    expect(onV2.cpu?.psi).toEqual({
      some: { avg10: 2, avg60: 1, avg300: 0.5, total: 7000 },
      full: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
    });
    expect(onV2.memory?.psi).toBeUndefined();
    expect(onV2.io?.psi?.full.total).toBe(800);
    // No root memory cgroup readable at all (no memory controller mounted): /proc/meminfo.
    const noCgroup = await provider(async () => {
      throw new Error('ENOENT');
    }).nodeStats();
    expect(noCgroup.memory?.availableBytes).toBe(4000000 * 1024);
    expect(noCgroup.cpu?.psi).toBeUndefined();
    expect(noCgroup.io).toBeUndefined();
  });

  it('on cgroup v1 takes usage from the root memory.usage_in_bytes and leaves out total_inactive_file, as cAdvisor', async () => {
    // The root of a v1 memory hierarchy: its own inactive_file is small, the hierarchy's large.
    const v1Stat = [
      'cache 40960',
      'rss 8192',
      'inactive_file 40960',
      'hierarchical_memory_limit 9223372036854771712',
      'total_cache 3000000000',
      'total_rss 900000000',
      'total_inactive_file 2100000000',
    ].join('\n');
    const v1 = {
      totalBytes: 8000000 * 1024,
      usageBytes: 4e9,
      workingSetBytes: 1.9e9,
      availableBytes: 8000000 * 1024 - 1.9e9,
    };
    expect(nodeMemoryFromCgroupV1Root(meminfo, '4000000000\n', v1Stat)).toEqual(v1);
    // cAdvisor: no total_inactive_file means the working set is the usage; never below 0.
    expect(nodeMemoryFromCgroupV1Root(meminfo, '4000000000\n', 'cache 1\n').workingSetBytes).toBe(4e9);
    expect(nodeMemoryFromCgroupV1Root(meminfo, '100\n', 'total_inactive_file 500\n').workingSetBytes).toBe(0);
    expect(() => nodeMemoryFromCgroupV1Root(meminfo, 'max\n', v1Stat)).toThrow(
      /memory\.usage_in_bytes: not a byte count \(got "max"\)/,
    );
    expect(() => nodeMemoryFromCgroupV1Root('', '1\n', v1Stat)).toThrow(/MemTotal/);

    // The provider: no memory.stat at the mount root, the memory hierarchy's files instead.
    const files: Record<string, string> = {
      'memory/memory.usage_in_bytes': '4000000000\n',
      'memory/memory.stat': v1Stat,
    };
    const read: string[] = [];
    const onV1 = await new HostNodeStatsProvider({
      nodeName: 'n',
      rootDir: '/',
      sources: {
        ...fakeProc(procFiles(1)),
        readCgroupRoot: async (file) => {
          read.push(file);
          const text = files[file];
          if (text === undefined) throw new Error(`ENOENT ${file}`);
          return text;
        },
      },
    }).nodeStats();
    expect(read.filter((file) => !file.endsWith('.pressure')).sort()).toEqual([
      'memory.stat',
      'memory/memory.stat',
      'memory/memory.usage_in_bytes',
    ]);
    // v1 has no pressure files at the mount root: no PSI.
    expect(onV1.cpu?.psi).toBeUndefined();
    expect(onV1.memory).toMatchObject({
      usageBytes: v1.usageBytes,
      workingSetBytes: v1.workingSetBytes,
      availableBytes: v1.availableBytes,
    });
  });

  it('counts busy cpu ticks only, and reads network, task limits and counts', () => {
    // (250 user + 100 system) ticks at 100 Hz = 3.5 s.
    expect(cpuUsageCoreNanoSeconds('cpu  250 0 100 9999 50 0 0 0 0 0')).toBe(3_500_000_000);
    expect(() => cpuUsageCoreNanoSeconds('intr 1 2 3')).toThrow(StatsSourceError);
    expect(parseNetDev(procFiles(0)['net/dev']).map((i) => [i.name, i.rxBytes, i.txErrors])).toEqual([
      ['lo', 500, 0],
      ['eth0', 1000, 3],
    ]);
    expect(maxTasks('4194304', '63000')).toBe(63000);
    expect(runningTasks('0.10 0.20 0.30 2/345 999')).toBe(345);
    expect(() => runningTasks('0.1 0.2')).toThrow(StatsSourceError);
  });

  it('samples the node: memory.available, nodefs, imagefs, rlimit and a cpu rate from the second sample on', async () => {
    const files = procFiles(250);
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const provider = new HostNodeStatsProvider({
      nodeName: 'node-a',
      rootDir: '/var/lib/kubelet',
      sources: {
        ...fakeProc(files),
        readProc: async (path) => (files as Record<string, string>)[path] ?? '',
      },
      clock,
      imageFs: async () => ({ time: 'now', availableBytes: 123, inodesFree: 7 }),
    });
    const first = await provider.nodeStats();
    expect(first.nodeName).toBe('node-a');
    // 3600.5 s of uptime: booted at 22:59:59.5, shown at second precision.
    expect(first.startTime).toBe('2025-12-31T22:59:59Z');
    expect(first.memory?.availableBytes).toBe(4000000 * 1024);
    // No Swap lines (a kernel without swap): nothing used, nothing available, stamped like memory.
    expect(first.swap).toEqual({ time: first.memory?.time, swapAvailableBytes: 0, swapUsageBytes: 0 });
    expect(first.fs).toMatchObject({ capacityBytes: 4096000, availableBytes: 1228800, inodesFree: 200 });
    expect(first.runtime?.imageFs?.availableBytes).toBe(123);
    expect(first.rlimit).toMatchObject({ maxpid: 63000, curproc: 345 });
    expect(first.network).toMatchObject({ name: 'eth0', rxBytes: 1000, txBytes: 2000 });
    expect(first.network?.interfaces?.map((i) => i.name)).toEqual(['eth0']);
    expect(first.cpu?.usageNanoCores).toBeUndefined();
    // One more second of busy time over two seconds: half a core.
    files.stat = 'cpu  350 0 100 9999 50 0 0 0 0 0\n';
    clock.advance(2000);
    const second = await provider.nodeStats();
    expect(second.cpu?.usageCoreNanoSeconds).toBe(4_500_000_000);
    expect(second.cpu?.usageNanoCores).toBe(500_000_000);
  });
});

describe('pod stats assembly', () => {
  const base = {
    nowMs: Date.UTC(2026, 0, 1),
    imageFs: { time: 't', capacityBytes: 1000, availableBytes: 400 },
    nodeFs: { time: 't', capacityBytes: 5000, availableBytes: 2000 },
  };

  it('builds one entry per ready pod with its running containers, summing container figures', () => {
    const pods = assemblePodStats({
      ...base,
      sandboxes: [sandbox('s1', 'web'), sandbox('s2', 'gone', PodSandboxState.SANDBOX_NOTREADY)],
      containers: [
        container('c1', 's1', 'app'),
        container('c2', 's1', 'sidecar'),
        container('c3', 's1', 'old', ContainerState.CONTAINER_EXITED),
        container('c4', 's2', 'app'),
      ],
      containerStats: [
        stats('c1', 2_000_000, 1000, 1_700_000_200),
        stats('c2', 3_000_000, 500, 1_700_000_200),
      ],
      logUsage: new Map([['c1', { bytes: 300, inodes: 2 }]]),
      volumeUsage: new Map([['uid-web', new Map([['data', { bytes: 50, inodes: 4 }]])]]),
      cpuRate: new CpuRateTracker(),
    });
    expect(pods).toHaveLength(1);
    const [pod] = pods;
    expect(pod?.podRef).toEqual({ name: 'web', namespace: 'default', uid: 'uid-web' });
    expect(pod?.startTime).toBe('2023-11-14T22:13:20.000Z');
    expect(pod?.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    const app = pod?.containers[0];
    expect(app?.cpu?.usageCoreNanoSeconds).toBe(2_000_000);
    expect(app?.memory).toMatchObject({ workingSetBytes: 1000, usageBytes: 1100, rssBytes: 500 });
    expect(app?.rootfs).toMatchObject({ usedBytes: 4096, inodesUsed: 3, capacityBytes: 1000 });
    expect(app?.logs).toMatchObject({ usedBytes: 300, inodesUsed: 2, availableBytes: 2000 });
    expect(pod?.cpu?.usageCoreNanoSeconds).toBe(5_000_000);
    expect(pod?.memory?.workingSetBytes).toBe(1500);
    expect(pod?.volume).toEqual([expect.objectContaining({ name: 'data', usedBytes: 50 })]);
    // Writable layers (2 × 4096) + logs (300) + volumes (50).
    expect(pod?.['ephemeral-storage']?.usedBytes).toBe(8192 + 300 + 50);
    expect(pod?.network).toBeUndefined();
  });

  it("gives a cached volume sample's own time, not the summary's (volumeStatsAggPeriod)", () => {
    const measuredAt = '2025-12-31T23:59:00Z';
    const [pod] = assemblePodStats({
      ...base,
      sandboxes: [sandbox('s1', 'web')],
      containers: [container('c1', 's1', 'app')],
      containerStats: [stats('c1', 2_000_000, 1000, 1_700_000_200)],
      logUsage: new Map(),
      volumeUsage: new Map([['uid-web', new Map([['data', { bytes: 50, inodes: 4, time: measuredAt }]])]]),
      cpuRate: new CpuRateTracker(),
    });
    expect(pod?.volume).toEqual([expect.objectContaining({ name: 'data', usedBytes: 50, time: measuredAt })]);
    expect(pod?.['ephemeral-storage']?.time).not.toBe(measuredAt);
  });

  it('prefers ListPodSandboxStats for pod cpu, memory, network and processes', () => {
    const cpuRate = new CpuRateTracker();
    const sandboxStats = (cpuNs: number, atS: number) => [
      {
        attributes: { id: 's1', metadata: null, labels: {}, annotations: {} },
        linux: {
          cpu: { timestamp: sec(atS), usageCoreNanoSeconds: u(cpuNs), usageNanoCores: null },
          memory: {
            timestamp: sec(atS),
            workingSetBytes: u(9999),
            availableBytes: null,
            usageBytes: u(10000),
            rssBytes: null,
            pageFaults: null,
            majorPageFaults: null,
          },
          network: {
            timestamp: sec(atS),
            defaultInterface: {
              name: 'eth0',
              rxBytes: u(70),
              rxErrors: u(0),
              txBytes: u(80),
              txErrors: u(0),
            },
            interfaces: [],
          },
          process: { timestamp: sec(atS), processCount: u(3) },
          containers: [stats('c1', 1_000, 10, atS)],
        },
        windows: null,
      },
    ];
    const round = (cpuNs: number, atS: number) =>
      assemblePodStats({
        ...base,
        sandboxes: [sandbox('s1', 'web')],
        containers: [container('c1', 's1', 'app')],
        containerStats: [],
        sandboxStats: sandboxStats(cpuNs, atS),
        logUsage: new Map(),
        volumeUsage: new Map(),
        cpuRate,
      })[0];
    const first = round(1_000_000_000, 100);
    expect(first?.memory?.workingSetBytes).toBe(9999);
    expect(first?.network).toMatchObject({ name: 'eth0', rxBytes: 70, txBytes: 80 });
    expect(first?.process_stats).toEqual({ process_count: 3 });
    expect(first?.containers[0]?.memory?.workingSetBytes).toBe(10);
    expect(first?.cpu?.usageNanoCores).toBeUndefined();
    // 0.25 s of CPU over 10 s: 25 millicores.
    const second = round(1_250_000_000, 110);
    expect(second?.cpu?.usageNanoCores).toBe(25_000_000);
  });
});

describe('CriSummaryProvider', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-stats-summary-${process.pid}-`));
    await mkdir(join(dir, 'logs', 'default_web_uid-web', 'app'), { recursive: true });
    await writeFile(join(dir, 'logs', 'default_web_uid-web', 'app', '0.log'), 'x'.repeat(1234));
    await mkdir(join(dir, 'root', 'pods', 'uid-web', 'volumes', 'kubernetes.io~empty-dir', 'cache'), {
      recursive: true,
    });
    await writeFile(
      join(dir, 'root', 'pods', 'uid-web', 'volumes', 'kubernetes.io~empty-dir', 'cache', 'f'),
      'y'.repeat(77),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('falls back to container stats when the runtime lacks ListPodSandboxStats, and measures logs and volumes', async () => {
    const calls: string[] = [];
    const cri = {
      listPodSandbox: async () => ({ items: [sandbox('s1', 'web')] }),
      listContainers: async () => ({ containers: [container('c1', 's1', 'app')] }),
      listContainerStats: async () => ({ stats: [stats('c1', 42_000, 2048, 1_700_000_200)] }),
      listPodSandboxStats: async () => {
        calls.push('ListPodSandboxStats');
        throw new CriError('ListPodSandboxStats', 12, 'unknown method ListPodSandboxStats', 'fake');
      },
      imageFsInfo: async () => ({
        imageFilesystems: [
          { timestamp: 0n, fsId: { mountpoint: '/images' }, usedBytes: u(5555), inodesUsed: u(66) },
        ],
        containerFilesystems: [],
      }),
    } as unknown as CriStatsSource;
    const provider = new CriSummaryProvider({
      nodeName: 'node-a',
      rootDir: join(dir, 'root'),
      podLogsDir: join(dir, 'logs'),
      cri,
      sources: fakeProc(procFiles(250)),
      clock: new FakeClock(Date.UTC(2026, 0, 1)),
    });
    const summary = await provider.summary();
    expect(summary.node.runtime?.imageFs).toMatchObject({
      usedBytes: 5555,
      inodesUsed: 66,
      availableBytes: 409600,
    });
    const [pod] = summary.pods;
    expect(pod?.containers[0]?.memory?.workingSetBytes).toBe(2048);
    expect(pod?.containers[0]?.cpu?.usageCoreNanoSeconds).toBe(42_000);
    // The 0.log file plus its directory.
    expect(pod?.containers[0]?.logs).toMatchObject({ usedBytes: 1234, inodesUsed: 2 });
    expect(pod?.volume).toEqual([expect.objectContaining({ name: 'cache', usedBytes: 77, inodesUsed: 2 })]);
    await provider.summary();
    // Unimplemented is remembered: asked once, not on every summary.
    expect(calls).toEqual(['ListPodSandboxStats']);
    // No pod cgroups given: no PSI, as before.
    expect(pod?.cpu?.psi).toBeUndefined();
    expect(pod?.io).toBeUndefined();

    // volumeStatsAggPeriod: read from a cache (its sample, its time), or none at all when 0.
    const withSource = (volumeStats: CriSummaryProviderOptions['volumeStats']) =>
      new CriSummaryProvider({
        nodeName: 'node-a',
        rootDir: join(dir, 'root'),
        podLogsDir: join(dir, 'logs'),
        cri,
        sources: fakeProc(procFiles(250)),
        clock: new FakeClock(Date.UTC(2026, 0, 1)),
        volumeStats,
      }).summary();
    const sample = { atMs: Date.UTC(2025, 11, 31), volumes: new Map([['cache', { bytes: 5, inodes: 1 }]]) };
    const cached = await withSource({ get: (uid) => (uid === 'uid-web' ? sample : undefined) });
    expect(cached.pods[0]?.volume).toEqual([
      expect.objectContaining({ name: 'cache', usedBytes: 5, time: '2025-12-31T00:00:00.000Z' }),
    ]);
    expect((await withSource({ get: () => undefined })).pods[0]?.volume).toEqual([]);
    expect((await withSource('none')).pods[0]?.volume).toEqual([]);
  });

  it('adds the PSI of pod and container cgroups (cgroupfs and systemd names) that the CRI stats lack', async () => {
    const pressure = (total: number) =>
      `some avg10=1.50 avg60=0.25 avg300=0.00 total=${total}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=${total / 2}\n`;
    const psi = (total: number) => ({
      some: { avg10: 1.5, avg60: 0.25, avg300: 0, total },
      full: { avg10: 0, avg60: 0, avg300: 0, total: total / 2 },
    });
    // web: cgroupfs names (pod<uid>/<container id>); api: a systemd scope, and no io.pressure.
    const cgroups = join(dir, 'cgroup');
    const webPod = join(cgroups, 'kubepods', 'burstable', 'poduid-web');
    const apiPod = join(cgroups, 'kubepods.slice', 'kubepods-poduid_api.slice');
    const files: Record<string, string> = {
      [join(webPod, 'cpu.pressure')]: pressure(100),
      [join(webPod, 'memory.pressure')]: pressure(200),
      [join(webPod, 'io.pressure')]: pressure(300),
      [join(webPod, 'c1', 'cpu.pressure')]: pressure(10),
      [join(webPod, 'c1', 'memory.pressure')]: pressure(20),
      [join(webPod, 'c1', 'io.pressure')]: pressure(30),
      [join(apiPod, 'cpu.pressure')]: pressure(400),
      [join(apiPod, 'memory.pressure')]: pressure(500),
      [join(apiPod, 'cri-containerd-c2.scope', 'cpu.pressure')]: pressure(40),
      [join(apiPod, 'cri-containerd-c2.scope', 'memory.pressure')]: pressure(50),
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, text);
    }
    const cri = {
      listPodSandbox: async () => ({
        items: [sandbox('s1', 'web'), sandbox('s2', 'api'), sandbox('s3', 'gone')],
      }),
      listContainers: async () => ({
        containers: [
          container('c1', 's1', 'app'),
          container('c2', 's2', 'app'),
          container('c3', 's3', 'app'),
        ],
      }),
      listContainerStats: async () => ({
        stats: [stats('c1', 1000, 2048, 1_700_000_200), stats('c2', 1000, 2048, 1_700_000_200)],
      }),
      listPodSandboxStats: async () => ({ stats: [] }),
      imageFsInfo: async () => ({ imageFilesystems: [], containerFilesystems: [] }),
    } as unknown as CriStatsSource;
    const podDirs: Record<string, string> = { 'uid-web': webPod, 'uid-api': apiPod };
    const summary = await new CriSummaryProvider({
      nodeName: 'node-a',
      rootDir: join(dir, 'root'),
      podLogsDir: join(dir, 'logs'),
      cri,
      sources: fakeProc(procFiles(250)),
      clock: new FakeClock(Date.UTC(2026, 0, 1)),
      // "gone" has a directory name but no cgroup left: it keeps what the CRI gave.
      podCgroups: {
        podDir: (uid) => podDirs[uid] ?? (uid === 'uid-gone' ? join(cgroups, 'gone') : undefined),
      },
    }).summary();
    const byName = (name: string) => summary.pods.find((p) => p.podRef.name === name)!;
    const web = byName('web');
    expect(web.cpu?.psi).toEqual(psi(100));
    expect(web.memory?.psi).toEqual(psi(200));
    expect(web.io).toEqual({ time: '2026-01-01T00:00:00.000Z', psi: psi(300) });
    expect(web.containers[0]?.cpu).toMatchObject({ usageCoreNanoSeconds: 1000, psi: psi(10) });
    expect(web.containers[0]?.memory).toMatchObject({ workingSetBytes: 2048, psi: psi(20) });
    expect(web.containers[0]?.io?.psi).toEqual(psi(30));
    const api = byName('api');
    expect(api.cpu?.psi).toEqual(psi(400));
    expect(api.io).toBeUndefined();
    expect(api.containers[0]?.memory?.psi).toEqual(psi(50));
    expect(api.containers[0]?.io).toBeUndefined();
    const gone = byName('gone');
    expect(gone.cpu?.psi).toBeUndefined();
    expect(gone.containers[0]?.memory?.psi).toBeUndefined();
  });

  it('names the field and value of a malformed pressure file', async () => {
    const broken = join(dir, 'cgroup-broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'cpu.pressure'), 'some avg10=x\n');
    await expect(readCgroupPressure(broken)).rejects.toThrow(StatsSourceError);
    await expect(readCgroupPressure(join(dir, 'no-such-cgroup'))).resolves.toBeUndefined();
  });
});
