/**
 * The kubelet's cgroup code on a real cgroup v2 kernel (this host runs v1): boots the micro-VM
 * once, runs cgroup-v2-scenario.ts inside with only the unified hierarchy mounted, and checks each
 * of our results against the kernel files the scenario read next to it, and the files against
 * what upstream writes for the same pods (values worked out by hand below).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';
import type { CgroupV2Sample } from '../../../src/stats/cgroup-v2-stats';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const MiB = 2 ** 20;

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];
afterAll(() => {
  for (const dispose of disposers) dispose();
});

beforeAll(async () => {
  // With a V8 code cache (tools/bundle/code-cache.ts): compiling it is most of a Node start under TCG.
  const scenario = bundleEntry(
    fileURLToPath(new URL('./cgroup-v2-scenario.ts', import.meta.url)),
    {},
    {
      codeCache: true,
    },
  );
  disposers.push(scenario.dispose);
  const result = await runInVm({
    command: 'node',
    args: [scenario.file],
    cwd: repoRoot,
    timeoutMs: 120_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
  if (!line) throw new Error(`no result line in:\n${result.stdout}`);
  r = JSON.parse(line.slice('SCENARIO-RESULT '.length));
}, VM_TEST_TIMEOUT_MS);

/** `key value` lines, parsed here independently of the code under test. */
function keyed(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [k, v] = l.split(' ');
        return [k, Number(v)];
      }),
  );
}

function pressure(text: string) {
  const out: Record<string, { total: number; avg10: number; avg60: number; avg300: number }> = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full) avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+) total=(\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected pressure line ${JSON.stringify(line)}`);
    out[m[1]!] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) };
  }
  return out;
}

function ioStat(text: string) {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [dev, ...fields] = l.split(' ');
      const [major, minor] = dev!.split(':').map(Number);
      return {
        major,
        minor,
        ...Object.fromEntries(fields.map((f) => [f.split('=')[0], Number(f.split('=')[1])])),
      };
    });
}

/** What our stats reader must report for the kernel files read around it. */
function expectStatsMatchKernel(sample: { kernel: Record<string, string>; ours: CgroupV2Sample }) {
  const { kernel, ours } = sample;
  const cpu = keyed(kernel['cpu.stat']!);
  const memory = keyed(kernel['memory.stat']!);
  const usage = Number(kernel['memory.current']);
  const workingSet = usage - memory.inactive_file!;
  expect(ours.cpu.usageCoreNanoSeconds).toBe(cpu.usage_usec! * 1000);
  expect(ours.memory).toMatchObject({
    usageBytes: usage,
    workingSetBytes: workingSet,
    rssBytes: memory.anon,
    pageFaults: memory.pgfault,
    majorPageFaults: memory.pgmajfault,
    availableBytes: Number(kernel['memory.max']) - workingSet,
  });
  expect(ours.cpu.psi).toEqual(pressure(kernel['cpu.pressure']!));
  expect(ours.memory.psi).toEqual(pressure(kernel['memory.pressure']!));
  expect(ours.io.psi).toEqual(pressure(kernel['io.pressure']!));
  expect(ours.ioDevices).toEqual(ioStat(kernel['io.stat']!));
}

describe('the kubelet on a cgroup v2 kernel (micro-VM)', () => {
  it('runs on the unified hierarchy alone and detects it as v2', () => {
    expect(r.mount.fstype).toBe('cgroup2fs');
    expect(r.mount.selfCgroup).toBe('0::/');
    expect(r.mount.v1Mounts).toEqual([]);
    expect(r.mount.rootControllers.split(' ')).toEqual(
      expect.arrayContaining(['cpu', 'io', 'memory', 'pids']),
    );
    expect(r.version).toBe(2);
  });

  it('builds kubepods/burstable and kubepods/besteffort with every controller delegated, as libcontainer', () => {
    const all = r.mount.rootControllers;
    for (const tier of ['/', '/kubepods', '/kubepods/burstable', '/kubepods/besteffort']) {
      expect(r.qos[tier]['cgroup.controllers']).toBe(all);
      expect(r.qos[tier]['cgroup.subtree_control']).toBe(all);
    }
    // Burstable requests 250m + 100m → 358 shares → weight 1 + (356 × 9999) / 262142 = 14.
    expect(r.qos['/kubepods/burstable']['cpu.weight']).toBe('14');
    // Best-effort: the minimum 2 shares → weight 1.
    expect(r.qos['/kubepods/besteffort']['cpu.weight']).toBe('1');
  });

  it('gives each pod cgroupfs-named pod<uid> under its QoS tier with the limits upstream writes', () => {
    const root = r.cgroupRoot;
    const expected = {
      // 500m → 512 shares → weight 20; 500m × 100 ms quota; 64 MiB.
      guaranteed: { dir: 'kubepods', weight: '20', max: '50000 100000', memory: String(64 * MiB) },
      // Requests 250m → 256 shares → weight 10; limits 1 CPU and 256 MiB.
      work: { dir: 'kubepods/burstable', weight: '10', max: '100000 100000', memory: String(256 * MiB) },
      // Requests only: 100m → 102 shares → weight 4; no quota, no memory limit (the kernel's defaults).
      requestsOnly: { dir: 'kubepods/burstable', weight: '4', max: 'max 100000', memory: 'max' },
      bestEffort: { dir: 'kubepods/besteffort', weight: '1', max: 'max 100000', memory: 'max' },
    };
    for (const [key, want] of Object.entries(expected)) {
      const got = r.pods[key];
      const uid = `${key === 'requestsOnly' ? 'requests-only' : key === 'bestEffort' ? 'best-effort' : key}-0000-4000-8000-cg2`;
      expect(got.parent).toBe(`${root}/${want.dir}/pod${uid}`);
      expect(got.path).toBe(got.parent);
      expect(got.kernel).toMatchObject({
        'cpu.weight': want.weight,
        'cpu.max': want.max,
        'memory.max': want.memory,
        'pids.max': '100',
        // memory.min/memory.high are upstream's MemoryQoS (alpha, off by default): left as the kernel has them.
        'memory.min': '0',
        'memory.high': 'max',
      });
      expect(got.kernel['cgroup.controllers']).toBe(r.mount.rootControllers);
    }
    expect(r.podUids).toEqual([
      'best-effort-0000-4000-8000-cg2',
      'guaranteed-0000-4000-8000-cg2',
      'requests-only-0000-4000-8000-cg2',
      'work-0000-4000-8000-cg2',
    ]);
  });

  it('names the same pod as nested slices with the systemd driver, with the same limits', () => {
    const { sliceRoot, parent, path, kernel, podGone, rootGone } = r.systemd;
    const prefix = sliceRoot.replace(/\.slice$/, '');
    const pod = `${prefix}-kubepods-podguaranteed_0000_4000_8000_cg2.slice`;
    expect(parent).toBe(pod);
    expect(path).toBe(`/${sliceRoot}/${prefix}-kubepods.slice/${pod}`);
    expect(kernel).toMatchObject({
      'cpu.weight': '20',
      'cpu.max': '50000 100000',
      'memory.max': String(64 * MiB),
      'pids.max': '100',
    });
    expect(podGone).toBe(true);
    expect(rootGone).toBe(true);
  });

  it('reads the pod limits back from the kernel files (shares from cpu.weight as upstream)', () => {
    const shares = { guaranteed: 500, work: 237, requestsOnly: 80, bestEffort: 2 };
    for (const [key, want] of Object.entries(shares)) {
      const { kernel, ours } = r.pods[key];
      const [quota, period] = kernel['cpu.max'].split(' ');
      expect(ours).toEqual({
        cpuShares: want,
        cpuQuotaUs: quota === 'max' ? -1 : Number(quota),
        cpuPeriodUs: Number(period),
        memoryLimitBytes: kernel['memory.max'] === 'max' ? -1 : Number(kernel['memory.max']),
      });
    }
  });

  it("reads a pod's CPU, memory, io.stat and PSI from processes placed in it, as the kernel reports them", () => {
    expect(r.ioExit).toBe(0);
    expectStatsMatchKernel(r.stats);
    expectStatsMatchKernel(r.appStats);
    // The app container holds 24 MiB of anonymous memory; the pod counts it too.
    expect(r.appStats.ours.memory.rssBytes).toBeGreaterThanOrEqual(24 * MiB);
    expect(r.stats.ours.memory.usageBytes).toBeGreaterThanOrEqual(r.appStats.ours.memory.usageBytes);
    expect(r.stats.ours.cpu.usageCoreNanoSeconds).toBeGreaterThan(r.appStats.ours.cpu.usageCoreNanoSeconds);
    // The I/O the io container did, byte for byte: 4 MiB written straight to the RAM disk (1:0),
    // 16 MiB read with O_DIRECT from the loop device.
    const [loopMajor, loopMinor] = r.loopDevice.split(':').map((hex: string) => Number.parseInt(hex, 16));
    expect(r.stats.ours.ioDevices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ major: 1, minor: 0, wbytes: 4 * MiB, wios: 64 }),
        expect.objectContaining({ major: loopMajor, minor: loopMinor, rbytes: 16 * MiB, rios: 256 }),
      ]),
    );
    // Two busy loops on one vCPU, page cache reclaimed under an 8 MiB limit, O_DIRECT waits.
    expect(r.stats.ours.cpu.psi.some.total).toBeGreaterThan(0);
    expect(r.stats.ours.memory.psi.some.total).toBeGreaterThan(0);
    expect(r.stats.ours.io.psi.some.total).toBeGreaterThan(0);
  });

  it('refuses a pod memory limit below what the pod uses, writing nothing', () => {
    const below = r.resize.belowUsage;
    expect(below.error).toBe(
      'PodResizeActuationError: aborting attempt to set pod memory limit less than current memory usage for pod work',
    );
    expect(below.usage).toBeGreaterThan(16 * MiB);
    expect(below.seen).toEqual([]);
    expect(below.after).toEqual({
      'memory.max': String(256 * MiB),
      'cpu.max': '100000 100000',
      'cpu.weight': '10',
    });
  });

  it('resizes up: the pod cgroup grows before its containers are updated (memory, then CPU)', () => {
    const up = r.resize.up;
    expect(up.error).toBeUndefined();
    expect(up.seen).toEqual([
      {
        resource: 'memory',
        pod: { 'memory.max': String(512 * MiB), 'cpu.max': '100000 100000', 'cpu.weight': '10' },
      },
      {
        resource: 'cpu',
        // 512 shares → weight 20.
        pod: { 'memory.max': String(512 * MiB), 'cpu.max': '200000 100000', 'cpu.weight': '20' },
      },
    ]);
    expect(up.after).toEqual({
      'memory.max': String(512 * MiB),
      'cpu.max': '200000 100000',
      'cpu.weight': '20',
    });
    expect(up.app).toEqual({ 'memory.max': String(512 * MiB), 'cpu.max': '200000 100000' });
  });

  it('resizes down: the pod cgroup shrinks only after its containers were updated', () => {
    const down = r.resize.down;
    expect(down.error).toBeUndefined();
    expect(down.seen).toEqual([
      {
        resource: 'memory',
        pod: { 'memory.max': String(512 * MiB), 'cpu.max': '200000 100000', 'cpu.weight': '20' },
      },
      {
        resource: 'cpu',
        pod: { 'memory.max': String(192 * MiB), 'cpu.max': '200000 100000', 'cpu.weight': '20' },
      },
    ]);
    expect(down.after).toEqual({
      'memory.max': String(192 * MiB),
      'cpu.max': '50000 100000',
      'cpu.weight': '10',
    });
    expect(down.app).toEqual({ 'memory.max': String(192 * MiB), 'cpu.max': '50000 100000' });
  });

  it("derives the node's memory and eviction's memory.available from the root cgroup, as upstream on v2", () => {
    const { memory, memoryAvailableSignal, meminfo, rootMemoryStat } = r.node;
    const kB = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(meminfo)![1]) * 1024;
    const root = keyed(rootMemoryStat);
    // The root cgroup has no memory.current: usage is its memory.stat anon + file.
    const usage = root.anon! + root.file!;
    const workingSet = usage - root.inactive_file!;
    expect(memory).toMatchObject({
      usageBytes: usage,
      workingSetBytes: workingSet,
      availableBytes: kB('MemTotal') - workingSet,
    });
    expect(memoryAvailableSignal).toEqual({
      available: kB('MemTotal') - workingSet,
      capacity: kB('MemTotal'),
    });
    // Kernel memory (slab, page tables…) is outside anon + file: /proc/meminfo's MemTotal − MemFree is more.
    expect(kB('MemTotal') - kB('MemFree')).toBeGreaterThan(usage);
  });

  it('removes a pod cgroup and then the whole private root from the real cgroupfs', () => {
    expect(r.bestEffortGone).toBe(true);
    expect(r.rootGone).toBe(true);
  });
});
