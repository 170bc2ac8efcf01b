/**
 * A whole node on cgroup v2 (this host runs v1): boots the micro-VM once and runs
 * cgroup-v2-node-scenario.ts inside, where a private containerd 1.6 and our Kubelet (cgroupfs
 * driver, cgroupsPerQOS, cgroupRoot "/") start real busybox pods (host network: no CNI runs under
 * TCG) with a zram swap device on. Checks
 * where containerd put each container, the pod and container cgroup files against what upstream
 * writes for the same pods (values worked out by hand below), memory.swap.max for LimitedSwap and
 * NoSwap against upstream's formula, the summary's pod and node figures, and the swap capacity.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const MiB = 2 ** 20;
/** The guest's page size: the kernel stores memory.* limits in whole pages. */
const pageBytes = 4096;

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];
afterAll(() => {
  for (const dispose of disposers) dispose();
});

beforeAll(async () => {
  // With V8 code caches (tools/bundle/code-cache.ts): compiling the bundles is most of a Node start
  // under TCG. The scenario requires containerd's CommonJS body (its import() is a require() there).
  const scenario = bundleEntry(
    fileURLToPath(new URL('./cgroup-v2-node-scenario.ts', import.meta.url)),
    {},
    {
      codeCache: true,
    },
  );
  disposers.push(scenario.dispose);
  const containerd = bundleEntry(`${repoRoot}tools/containerd/containerd.ts`, {}, { codeCache: true });
  disposers.push(containerd.dispose);
  const result = await runInVm({
    command: 'node',
    args: [scenario.file, containerd.commonJs ?? containerd.file],
    cwd: repoRoot,
    // containerd, node, the kubelet and the API server side by side: more room than the default.
    memoryMb: 1536,
    cpus: 2,
    timeoutMs: 600_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
  if (!line) throw new Error(`no result line in:\n${result.stdout}`);
  r = JSON.parse(line.slice('SCENARIO-RESULT '.length));
  // What this run measured, for the README and for a failure's context.
  const burstable = r.limited.pods.burstable;
  console.log(
    `cgroup v2 node: ${Math.round(result.durationMs / 1000)} s, speed factor ${result.speedFactor}, qemu ${Math.round(result.qemuCpuMs / 100) / 10} CPU-s; ` +
      `MemTotal ${r.machine.memoryCapacityBytes}, SwapTotal ${r.machine.swapCapacityBytes}; ` +
      `LimitedSwap burstable request ${burstable.request.unified['memory.swap.max']}, file ${burstable.containerFiles['memory.swap.max']}; ` +
      `working set ${burstable.summary.containers[0].memory.workingSetBytes}; ` +
      `pod cpu PSI some total ${burstable.summary.cpu.psi?.some.total}; node cpu PSI ${JSON.stringify(r.limited.node.cpu.psi?.some)}`,
  );
  // Where the guest's time went: the scenario's progress lines (guest clock), for the tier table.
  console.log(
    result.stderr
      .split('\n')
      .filter((l) => l.startsWith('[cg2node '))
      .join('\n'),
  );
}, VM_TEST_TIMEOUT_MS);

/** A /proc/meminfo field in bytes, parsed here independently of the code under test. */
function meminfoBytes(meminfo: string, field: string): number {
  const match = new RegExp(`^${field.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
  if (!match) throw new Error(`no ${field} in /proc/meminfo`);
  return Number(match[1]) * 1024;
}

/** Upstream's LimitedSwap share (calcSwapForBurstablePods): float64 proportion, truncated. */
function limitedSwapShare(request: number, memTotal: number, swapTotal: number): number {
  return Math.trunc((request / memTotal) * swapTotal);
}

describe('a whole node on cgroup v2 (micro-VM: containerd 1.6, our kubelet, real pods)', () => {
  it('runs on the unified hierarchy alone, the kubelet in its own cgroup where it finds the swap controller', () => {
    expect(r.mount.fstype).toBe('cgroup2fs');
    expect(r.mount.v1Mounts).toEqual([]);
    expect(r.mount.selfCgroup).toBe('0::/system.slice/kubelet.service');
    expect(r.swap.procSwaps).toContain('/dev/zram0');
    const swapTotal = meminfoBytes(r.limited.meminfo, 'SwapTotal');
    // zram's 256 MiB less mkswap's header page.
    expect(swapTotal).toBe(256 * MiB - pageBytes);
    for (const phase of [r.limited, r.noSwap])
      expect(phase.nodeSwap).toEqual({
        cgroupVersion: 2,
        swapControllerAvailable: true,
        swapCapacity: swapTotal,
      });
  });

  it('containerd puts each container in kubepods[/<qos>]/pod<uid>/<container id>, next to its sandbox', () => {
    const tiers = {
      burstable: 'kubepods/burstable',
      guaranteed: 'kubepods',
      bestEffort: 'kubepods/besteffort',
    };
    for (const [key, tier] of Object.entries(tiers)) {
      const p = r.limited.pods[key];
      const path = `/${tier}/pod${p.uid}/${p.containerId}`;
      expect(p.podPath).toBe(`/${tier}/pod${p.uid}`);
      expect(p.procCgroup).toBe(`0::${path}`);
      expect(p.cgroupsPath).toBe(path);
      // The container and the pause container, nothing else.
      const children = p.podChildren.split('\n');
      expect(children).toContain(p.containerId);
      expect(children.filter((c: string) => /^[0-9a-f]{64}$/.test(c))).toHaveLength(2);
    }
    expect(r.limited.pods.burstable.qosClass).toBe('Burstable');
    expect(r.limited.pods.guaranteed.qosClass).toBe('Guaranteed');
    expect(r.limited.pods.bestEffort.qosClass).toBe('BestEffort');
  });

  it('the pod cgroups hold the limits upstream writes (podPidsLimit 1024; no pod-level swap limit)', () => {
    const pods = r.limited.pods;
    // Requests 250m → 256 shares → weight 1 + (254 × 9999) / 262142 = 10; limits 500m, 128 MiB.
    expect(pods.burstable.podFiles).toEqual({
      'cpu.weight': '10',
      'cpu.max': '50000 100000',
      'memory.max': String(128 * MiB),
      'pids.max': '1024',
      'memory.swap.max': 'max',
    });
    // 500m → 512 shares → weight 20; 64 MiB.
    expect(pods.guaranteed.podFiles).toEqual({
      'cpu.weight': '20',
      'cpu.max': '50000 100000',
      'memory.max': String(64 * MiB),
      'pids.max': '1024',
      'memory.swap.max': 'max',
    });
    // The minimum 2 shares → weight 1; no quota, no memory limit.
    expect(pods.bestEffort.podFiles).toEqual({
      'cpu.weight': '1',
      'cpu.max': 'max 100000',
      'memory.max': 'max',
      'pids.max': '1024',
      'memory.swap.max': 'max',
    });
    expect(r.limited.qos['kubepods/burstable']['cpu.weight']).toBe('10');
    expect(r.limited.qos['kubepods/besteffort']['cpu.weight']).toBe('1');
    for (const tier of ['kubepods', 'kubepods/burstable', 'kubepods/besteffort'])
      expect(r.limited.qos[tier]['cgroup.subtree_control'].split(' ')).toEqual(
        expect.arrayContaining(['cpu', 'memory', 'pids']),
      );
  });

  it('the container cgroups hold what the kubelet asked of containerd, written by runc', () => {
    const pods = r.limited.pods;
    expect(pods.burstable.request).toMatchObject({
      cpuShares: '256',
      cpuQuota: '50000',
      cpuPeriod: '100000',
      memoryLimitInBytes: String(128 * MiB),
    });
    expect(pods.burstable.containerFiles).toMatchObject({
      'cpu.weight': '10',
      'cpu.max': '50000 100000',
      'memory.max': String(128 * MiB),
      'pids.max': 'max',
    });
    expect(pods.guaranteed.request).toMatchObject({
      cpuShares: '512',
      cpuQuota: '50000',
      cpuPeriod: '100000',
      memoryLimitInBytes: String(64 * MiB),
    });
    expect(pods.guaranteed.containerFiles).toMatchObject({
      'cpu.weight': '20',
      'cpu.max': '50000 100000',
      'memory.max': String(64 * MiB),
      'pids.max': 'max',
    });
    expect(pods.bestEffort.request).toMatchObject({ cpuShares: '2' });
    expect(pods.bestEffort.request.memoryLimitInBytes ?? '0').toBe('0');
    expect(pods.bestEffort.containerFiles).toMatchObject({
      'cpu.weight': '1',
      'cpu.max': 'max 100000',
      'memory.max': 'max',
      'pids.max': 'max',
    });
  });

  it('each container cgroup kills as a whole on OOM (memory.oom.group 1, singleProcessOOMKill unset)', () => {
    for (const key of ['burstable', 'guaranteed', 'bestEffort']) {
      const p = r.limited.pods[key];
      expect(p.request.unified?.['memory.oom.group']).toBe('1');
      expect(p.containerFiles['memory.oom.group']).toBe('1');
    }
  });

  it('LimitedSwap: the Burstable container gets request ÷ MemTotal × SwapTotal, Guaranteed and BestEffort 0', () => {
    const { pods, meminfo } = r.limited;
    const memTotal = meminfoBytes(meminfo, 'MemTotal');
    const swapTotal = meminfoBytes(meminfo, 'SwapTotal');
    expect(r.machine).toEqual({ memoryCapacityBytes: memTotal, swapCapacityBytes: swapTotal });
    const share = limitedSwapShare(32 * MiB, memTotal, swapTotal);
    // 32 MiB of ~1.5 GiB: about 2 % of the swap, not 0 and not all of it.
    expect(share).toBeGreaterThan(swapTotal / 100);
    expect(share).toBeLessThan(swapTotal / 10);
    expect(pods.burstable.request.unified).toEqual({
      'memory.oom.group': '1',
      'memory.swap.max': String(share),
    });
    // The kernel keeps whole pages.
    expect(pods.burstable.containerFiles['memory.swap.max']).toBe(
      String(Math.floor(share / pageBytes) * pageBytes),
    );
    for (const key of ['guaranteed', 'bestEffort']) {
      expect(pods[key].request.unified).toEqual({ 'memory.oom.group': '1', 'memory.swap.max': '0' });
      expect(pods[key].containerFiles['memory.swap.max']).toBe('0');
    }
  });

  it('NoSwap: the same Burstable container gets memory.swap.max 0', () => {
    const p = r.noSwap.pods.burstable;
    expect(p.qosClass).toBe('Burstable');
    expect(p.request.unified['memory.swap.max']).toBe('0');
    expect(p.containerFiles['memory.swap.max']).toBe('0');
    expect(p.containerFiles['memory.max']).toBe(String(128 * MiB));
  });

  it('MemoryQoS (gate on, TieredReservation; the NoSwap node): memory.high and memory.low as upstream v1.36 writes them', () => {
    const p = r.noSwap.pods.burstable;
    // KEP-2570: ⌊(32 MiB + 0.9 × (128 MiB − 32 MiB)) / 4096⌋ × 4096, worked out by hand.
    const high = Math.floor((32 * MiB + 0.9 * (96 * MiB)) / pageBytes) * pageBytes;
    expect(high).toBe(124_149_760);
    expect(p.request.unified).toEqual({
      'memory.oom.group': '1',
      'memory.swap.max': '0',
      'memory.low': String(32 * MiB),
      'memory.high': String(high),
    });
    // containerd passed them through and runc wrote them; memory.min stays the kernel's 0.
    expect(p.containerFiles).toMatchObject({
      'memory.high': String(high),
      'memory.low': String(32 * MiB),
      'memory.min': '0',
    });
    // The pod cgroup: memory.low = the pod's request; no memory.high at pod level in v1.36.
    expect(p.podMemoryQoSFiles).toEqual({
      'memory.min': '0',
      'memory.low': String(32 * MiB),
      'memory.high': 'max',
    });
    // The QoS tiers: kubepods protects Guaranteed + Burstable requests, burstable its pods'.
    expect(r.noSwap.qos.kubepods['memory.min']).toBe(String(32 * MiB));
    expect(r.noSwap.qos['kubepods/burstable']['memory.low']).toBe(String(32 * MiB));
    // Without the gate (the LimitedSwap node) none of it is written.
    expect(r.limited.pods.burstable.containerFiles).toMatchObject({
      'memory.high': 'max',
      'memory.low': '0',
    });
  });

  it('the summary gives the pods a working set and CPU usage from containerd', () => {
    for (const phase of [r.limited, r.noSwap]) {
      const stats = phase.pods.burstable.summary;
      const container = stats.containers.find((c: { name: string }) => c.name === 'c');
      // 8 MiB written into its tmpfs-backed rootfs (not reclaimable page cache) and a busy loop.
      expect(container.memory.workingSetBytes).toBeGreaterThanOrEqual(8 * MiB);
      expect(container.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
      expect(stats.memory.workingSetBytes).toBeGreaterThanOrEqual(container.memory.workingSetBytes);
      expect(stats.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    }
    for (const key of ['guaranteed', 'bestEffort']) {
      const container = r.limited.pods[key].summary.containers[0];
      expect(container.memory.workingSetBytes).toBeGreaterThan(0);
    }
  });

  it("PSI: the summary carries the pod and container cgroups' pressure (kernel 6.1), as upstream", () => {
    for (const key of ['burstable', 'guaranteed', 'bestEffort']) {
      const p = r.limited.pods[key];
      for (const sample of [p.podCgroupStats, p.containerCgroupStats]) {
        for (const resource of ['cpu', 'memory', 'io'])
          expect(sample[resource].psi).toMatchObject({
            some: expect.objectContaining({ total: expect.any(Number) }),
            full: expect.objectContaining({ total: expect.any(Number) }),
          });
      }
      // containerd 1.6's CRI stats carry none: the summary takes it from the same cgroups
      // (podCgroups), as upstream's cAdvisor does; a PSI total only grows.
      const container = p.summary.containers[0];
      for (const [stats, sample] of [
        [p.summary, p.podCgroupStats],
        [container, p.containerCgroupStats],
      ]) {
        for (const resource of ['cpu', 'memory', 'io'])
          expect(stats[resource].psi.some.total).toBeLessThanOrEqual(sample[resource].psi.some.total);
      }
    }
    // The busy loop waited for the CPU at least once (the kubelet, containerd and it share 2 vCPUs).
    expect(r.limited.pods.burstable.containerCgroupStats.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
  });

  it('/metrics/cadvisor: container_pressure_* for the root, pod and container cgroups, the summary totals in seconds', () => {
    const { kernelPsi, cadvisorPressure, pods, node } = r.limited;
    // The guest kernel has /proc/pressure and no psi=0: upstream's IsPsiEnabled says yes.
    expect(kernelPsi).toBe(true);
    /** The value of one series, found by metric name and its id/pod/container labels. */
    const value = (metric: string, labels: string) => {
      const line = cadvisorPressure.find(
        (l: string) => l.startsWith(`container_pressure_${metric}_seconds_total{`) && l.includes(labels),
      );
      if (!line)
        throw new Error(`no container_pressure_${metric} for ${labels} in:\n${cadvisorPressure.join('\n')}`);
      return Number(line.split(' ')[1]);
    };
    const rows = [
      { labels: 'id="/"', stats: node },
      ...['burstable', 'guaranteed', 'bestEffort'].flatMap((key) => {
        const p = pods[key];
        const pod = `namespace="default",pod="${p.summary.podRef.name}"`;
        const container = p.summary.containers[0];
        return [
          { labels: `container="",id="",image="",name="",${pod}`, stats: p.summary },
          { labels: `container="${container.name}",id="",image="",name="",${pod}`, stats: container },
        ];
      }),
    ];
    for (const { labels, stats } of rows)
      for (const resource of ['cpu', 'memory', 'io']) {
        expect(value(`${resource}_waiting`, labels)).toBeCloseTo(stats[resource].psi.some.total / 1e6, 6);
        expect(value(`${resource}_stalled`, labels)).toBeCloseTo(stats[resource].psi.full.total / 1e6, 6);
      }
    // The root's CPU was contended (see below): a counter that is not just the zero fallback.
    expect(value('cpu_waiting', 'id="/"')).toBeGreaterThan(0);
  });

  it("the node's memory is the root cgroup's and its swap is the guest's (summary node.swap)", () => {
    for (const phase of [r.limited, r.noSwap]) {
      const { node, meminfo } = phase;
      const memTotal = meminfoBytes(meminfo, 'MemTotal');
      const swapTotal = meminfoBytes(meminfo, 'SwapTotal');
      expect(node.memory.availableBytes).toBe(memTotal - node.memory.workingSetBytes);
      expect(node.memory.workingSetBytes).toBeGreaterThan(0);
      expect(node.memory.usageBytes).toBeGreaterThanOrEqual(node.memory.workingSetBytes);
      // Used plus free is the device, however much of it was in use at that moment.
      expect(node.swap.swapAvailableBytes + node.swap.swapUsageBytes).toBe(swapTotal);
      // The root cgroup's PSI, all three resources; the CPU was contended (the kubelet, containerd
      // and a busy loop on 2 vCPUs), memory and I/O need not have been.
      for (const stats of [node.cpu, node.memory, node.io])
        expect(stats.psi).toMatchObject({
          some: expect.objectContaining({ total: expect.any(Number) }),
          full: expect.objectContaining({ total: expect.any(Number) }),
        });
      expect(node.cpu.psi.some.total).toBeGreaterThan(0);
    }
  });

  it('removes the pod cgroups when the kubelet lets the pods go', () => {
    expect(r.limited.podCgroupsLeft).toEqual([]);
    expect(r.noSwap.podCgroupsLeft).toEqual([]);
  });
});
