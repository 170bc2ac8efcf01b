/**
 * cgroupDriver systemd as upstream, on a node booted with systemd as PID 1 and cgroup v2: boots
 * the micro-VM once with init 'systemd' and runs systemd-driver-scenario.ts inside, where two
 * nodes run one after the other, each a private containerd with runc's systemd cgroup driver and
 * our Kubelet with a Guaranteed, a Burstable and a BestEffort pod: containerd 1.6 with the kubelet
 * configured for systemd (1.6 has no RuntimeConfig: the configured driver stands), then containerd
 * 2.1 with the kubelet configured for cgroupfs (2.1's RuntimeConfig answer, systemd, wins, as
 * upstream's KubeletCgroupDriverFromCRI). On each the pod and QoS cgroups must be systemd slices
 * systemd itself knows (created over D-Bus with libcontainer's properties), the limits in the unit
 * properties and the files, the containers in runc's scopes inside them, and a deleted pod's slice
 * gone from systemd too. On 2.1 (runc 1.3) a hostUsers: false pod runs in its own user namespace
 * and the BestEffort pod mounts an image volume. Both kubelets run with the MemoryQoS gate on
 * (TieredReservation) and swapBehavior LimitedSwap on a zram swap device: memory.min / memory.low
 * on the pod and QoS slices (unit properties and files), memory.high and memory.swap.max in the
 * containers' scopes, and the summary's PSI from the slices and scopes with /metrics/cadvisor's
 * pressure lines, all as upstream v1.36 gives them (values worked out by hand below).
 */

import { fileURLToPath } from 'node:url';
import { CgroupDriver } from '@nodeagent/cri-client/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';
import { runtimeConfigUnimplementedMessage } from '../../../src/cri/runtime-cgroup-driver';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const MiB = 2 ** 20;
/** The guest's page size: the kernel stores memory.* limits in whole pages. */
const pageBytes = 4096;

/** A /proc/meminfo field in bytes, parsed here independently of the code under test. */
function meminfoBytes(meminfo: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
  if (!match) throw new Error(`no ${field} in /proc/meminfo`);
  return Number(match[1]) * 1024;
}

/** Upstream's LimitedSwap share (calcSwapForBurstablePods): float64 proportion, truncated. */
function limitedSwapShare(request: number, memTotal: number, swapTotal: number): number {
  return Math.trunc((request / memTotal) * swapTotal);
}

/** KEP-2570's memory.high: request + 0.9 × (limit − request), rounded down to whole pages. */
const burstableHigh = Math.floor((32 * MiB + 0.9 * (96 * MiB)) / pageBytes) * pageBytes;

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];
afterAll(() => {
  for (const dispose of disposers) dispose();
});

beforeAll(async () => {
  const scenario = bundleEntry(
    fileURLToPath(new URL('./systemd-driver-scenario.ts', import.meta.url)),
    {},
    { codeCache: true },
  );
  disposers.push(scenario.dispose);
  const containerd = bundleEntry(`${repoRoot}tools/containerd/containerd.ts`, {}, { codeCache: true });
  disposers.push(containerd.dispose);
  const result = await runInVm({
    command: 'node',
    args: [scenario.file, containerd.commonJs ?? containerd.file],
    cwd: repoRoot,
    init: 'systemd',
    memoryMb: 1536,
    cpus: 2,
    timeoutMs: 900_000,
    // systemd's own start under TCG took 2-5 min on a host at load ~120 (CI runs this file beside
    // burners and the other tiers): more than the plain boot's 120 s default.
    bootTimeoutMs: 600_000,
    onStderr: (chunk) => process.stderr.write(chunk),
  });
  if (result.exitCode !== 0)
    throw new Error(
      `scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}\n${result.console}`,
    );
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
  if (!line) throw new Error(`no result line in:\n${result.stdout}`);
  r = JSON.parse(line.slice('SCENARIO-RESULT '.length));
  console.log(
    `systemd driver node: ${Math.round(result.durationMs / 1000)} s, boot ${result.bootMs} ms, speed factor ${result.speedFactor}, qemu ${Math.round(result.qemuCpuMs / 1000)} CPU-s`,
  );
  for (const [version, node] of Object.entries(r.nodes))
    console.log(`containerd ${version}:\n${(node as { status: string }).status}`);
  console.log(`hostUsers: false on 2.1: ${JSON.stringify(r.nodes['2.1'].userns)}`);
  console.log(`image volume on 2.1: ${JSON.stringify(r.nodes['2.1'].imageVolume)}`);
  for (const [version, node] of Object.entries(r.nodes)) {
    const { pods, qos } = (node as { memory: { pods: Record<string, object>; qos: object } }).memory;
    const memory = Object.fromEntries(
      Object.entries(pods).map(([key, p]) => {
        const { request, sliceFiles, scopeFiles, scopeShow } = p as Record<string, unknown>;
        return [key, { request, sliceFiles, scopeFiles, scopeShow }];
      }),
    );
    console.log(`containerd ${version} memory: ${JSON.stringify({ memory, qos })}`);
  }
}, VM_TEST_TIMEOUT_MS);

const slice = (uid: string) => `pod${uid.replaceAll('-', '_')}`;

describe('the boot: systemd PID 1 on cgroup v2', () => {
  it('runs under systemd on the unified hierarchy, only tools/vm’s own unit started', () => {
    expect(r.pid1).toBe('systemd');
    expect(r.fstype).toBe('cgroup2fs');
    expect(r.selfCgroup).toBe('0::/system.slice/nodeagent-vm.service');
    // The boot is tools/vm's (runInVm init 'systemd'; its own test checks only the init script):
    // none of the host's enabled services is pulled in, at most systemd's own few besides ours.
    expect(r.hostContainerdService).toBe('inactive');
    expect(r.activeServices).toBeLessThanOrEqual(3);
  });
});

describe('the cgroup driver the kubelet starts with (KubeletCgroupDriverFromCRI, GA)', () => {
  it('containerd 1.6 answers RuntimeConfig Unimplemented: the configured systemd stands, with upstream’s message', () => {
    const { runtimeVersion, driver } = r.nodes['1.6'];
    expect(runtimeVersion).toMatch(/^v?1\.6\./);
    expect(driver.runtimeConfig.error).toContain('unknown method RuntimeConfig');
    expect(driver).toMatchObject({ configured: 'systemd', effective: 'systemd' });
    expect(driver.log.map((l: { level: string; msg: string }) => [l.level, l.msg])).toEqual([
      ['error', 'RuntimeConfig from runtime service failed'],
      ['info', runtimeConfigUnimplementedMessage],
    ]);
    expect(driver.metrics).toContain('kubelet_cri_losing_support{version="1.37.0"} 1');
  });

  it('containerd 2.1 with SystemdCgroup answers systemd: it replaces the configured cgroupfs, logged as upstream', () => {
    const { runtimeVersion, driver } = r.nodes['2.1'];
    expect(runtimeVersion).toMatch(/^v?2\.1\./);
    expect(driver.runtimeConfig).toEqual({ linux: { cgroupDriver: CgroupDriver.SYSTEMD } });
    expect(driver).toMatchObject({ configured: 'cgroupfs', effective: 'systemd' });
    expect(driver.log).toEqual([
      {
        level: 'info',
        msg: 'Using cgroup driver setting received from the CRI runtime',
        fields: { cgroupDriver: 'systemd' },
      },
    ]);
    expect(driver.metrics).not.toContain('kubelet_cri_losing_support');
  });
});

describe.each(['1.6', '2.1'])('cgroupDriver systemd on containerd %s (SystemdCgroup = true)', (version) => {
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
  const node = (): any => r.nodes[version];

  it('containerd is configured with the same driver', () => {
    expect(node().containerdConfig).toEqual(['SystemdCgroup = true']);
  });

  it('each pod is a slice under its QoS slice, and its container in a runc scope inside it', () => {
    const tiers = {
      guaranteed: ['kubepods.slice', 'kubepods'],
      burstable: ['kubepods.slice/kubepods-burstable.slice', 'kubepods-burstable'],
      bestEffort: ['kubepods.slice/kubepods-besteffort.slice', 'kubepods-besteffort'],
    } as const;
    for (const [key, [dir, prefix]] of Object.entries(tiers)) {
      const p = node().pods[key];
      const unit = `${prefix}-${slice(p.uid)}.slice`;
      expect(p.unit).toBe(unit);
      expect(p.podPath).toBe(`/${dir}/${unit}`);
      // containerd's systemd cgroups path: slice:prefix:id, runc's scope cri-containerd-<id>.scope.
      expect(p.cgroupsPath).toBe(`${unit}:cri-containerd:${p.containerId}`);
      expect(p.procCgroup).toBe(`0::/${dir}/${unit}/cri-containerd-${p.containerId}.scope`);
      expect(p.show).toMatchObject({
        LoadState: 'loaded',
        ActiveState: 'active',
        Description: `libcontainer container ${unit}`,
        ControlGroup: `/${dir}/${unit}`,
        MemoryAccounting: 'yes',
        CPUAccounting: 'yes',
        TasksAccounting: 'yes',
      });
    }
    expect(node().pods.guaranteed.show.Wants).toBe('kubepods.slice');
    expect(node().pods.burstable.show.Wants).toBe('kubepods-burstable.slice');
    expect(node().qos['kubepods.slice']).toMatchObject({ ActiveState: 'active', Wants: '-.slice' });
    expect(node().qos['kubepods-besteffort.slice']).toMatchObject({ ActiveState: 'active', CPUWeight: '1' });
  });

  it('`systemctl status kubepods.slice` shows the QoS slices, the pod slices and their containers', () => {
    const status: string = node().status;
    expect(status).toMatch(/kubepods\.slice - libcontainer container kubepods\.slice/);
    expect(status).toMatch(/Active: active/);
    for (const key of ['guaranteed', 'burstable', 'bestEffort']) {
      expect(status).toContain(node().pods[key].unit);
      expect(status).toContain(`cri-containerd-${node().pods[key].containerId}.scope`);
    }
    expect(status).toContain('kubepods-burstable.slice');
    expect(status).toContain('kubepods-besteffort.slice');
    expect(status).toContain('sleep 3600');
  });

  it('the limits are in the slices: unit properties and cgroup files agree with upstream', () => {
    const { guaranteed, burstable, bestEffort } = node().pods;
    // 500m → 512 shares → weight 20; 500 ms of CPU per second; 64 MiB; podPidsLimit 1024.
    expect(guaranteed.files).toEqual({
      'cpu.weight': '20',
      'cpu.max': '50000 100000',
      'memory.max': String(64 * MiB),
      'pids.max': '1024',
    });
    expect(guaranteed.show).toMatchObject({
      CPUWeight: '20',
      CPUQuotaPerSecUSec: '500ms',
      CPUQuotaPeriodUSec: '100ms',
      MemoryMax: String(64 * MiB),
      TasksMax: '1024',
    });
    // requests 250m → weight 10; limits 500m, 128 MiB.
    expect(burstable.files).toEqual({
      'cpu.weight': '10',
      'cpu.max': '50000 100000',
      'memory.max': String(128 * MiB),
      'pids.max': '1024',
    });
    expect(burstable.show).toMatchObject({ CPUWeight: '10', MemoryMax: String(128 * MiB), TasksMax: '1024' });
    // BestEffort: the minimum weight, no quota, no memory limit.
    expect(bestEffort.files).toEqual({
      'cpu.weight': '1',
      'cpu.max': 'max 100000',
      'memory.max': 'max',
      'pids.max': '1024',
    });
    expect(bestEffort.show).toMatchObject({
      CPUWeight: '1',
      MemoryMax: 'infinity',
      CPUQuotaPerSecUSec: 'infinity',
    });
  });

  it('swap: a zram device is on, and the kubelet finds the swap controller in its own cgroup (nodeagent-vm.service)', () => {
    expect(r.swap.procSwaps).toContain('/dev/zram0');
    const swapTotal = meminfoBytes(node().memory.meminfo, 'SwapTotal');
    // zram's 256 MiB less mkswap's header page.
    expect(swapTotal).toBe(256 * MiB - pageBytes);
    expect(node().nodeSwap).toEqual({
      cgroupVersion: 2,
      swapControllerAvailable: true,
      swapCapacity: swapTotal,
    });
  });

  it('MemoryQoS (gate on, TieredReservation): memory.min / memory.low on the pod slices, as unit properties and files', () => {
    const { pods } = node().memory;
    // Guaranteed: memory.min = its request; Burstable: memory.low = its request; BestEffort: none.
    // No memory.high and no swap limit at pod level in v1.36.
    expect(pods.guaranteed.sliceFiles).toEqual({
      'memory.min': String(64 * MiB),
      'memory.low': '0',
      'memory.high': 'max',
      'memory.max': String(64 * MiB),
      'memory.swap.max': 'max',
    });
    expect(pods.guaranteed.sliceShow).toMatchObject({ MemoryMin: String(64 * MiB), MemoryLow: '0' });
    expect(pods.burstable.sliceFiles).toEqual({
      'memory.min': '0',
      'memory.low': String(32 * MiB),
      'memory.high': 'max',
      'memory.max': String(128 * MiB),
      'memory.swap.max': 'max',
    });
    expect(pods.burstable.sliceShow).toMatchObject({ MemoryMin: '0', MemoryLow: String(32 * MiB) });
    expect(pods.bestEffort.sliceFiles).toEqual({
      'memory.min': '0',
      'memory.low': '0',
      'memory.high': 'max',
      'memory.max': 'max',
      'memory.swap.max': 'max',
    });
    expect(pods.bestEffort.sliceShow).toMatchObject({ MemoryMin: '0', MemoryLow: '0' });
  });

  it('MemoryQoS: the QoS slices protect their pods’ requests (kubepods 64 + 32 MiB, burstable 32 MiB)', () => {
    const { qos } = node().memory;
    expect(qos['kubepods.slice'].files).toEqual({ 'memory.min': String(96 * MiB), 'memory.low': '0' });
    expect(qos['kubepods.slice'].show).toMatchObject({ MemoryMin: String(96 * MiB) });
    expect(qos['kubepods-burstable.slice'].files).toEqual({
      'memory.min': '0',
      'memory.low': String(32 * MiB),
    });
    expect(qos['kubepods-burstable.slice'].show).toMatchObject({ MemoryLow: String(32 * MiB) });
  });

  it('MemoryQoS and LimitedSwap in the containers: the unified map sent, runc’s scope properties and files', () => {
    const { pods, meminfo } = node().memory;
    const share = limitedSwapShare(
      32 * MiB,
      meminfoBytes(meminfo, 'MemTotal'),
      meminfoBytes(meminfo, 'SwapTotal'),
    );
    // 32 MiB of ~1.5 GiB: about 2 % of the swap, not 0 and not all of it.
    expect(share).toBeGreaterThan((256 * MiB) / 100);
    expect(share).toBeLessThan((256 * MiB) / 10);
    expect(burstableHigh).toBe(124_149_760);
    // memory.oom.group: singleProcessOOMKill is unset, so on cgroup v2 each container dies whole on OOM.
    expect(pods.guaranteed.request).toEqual({
      'memory.oom.group': '1',
      'memory.swap.max': '0',
      'memory.min': String(64 * MiB),
    });
    expect(pods.burstable.request).toEqual({
      'memory.oom.group': '1',
      'memory.swap.max': String(share),
      'memory.low': String(32 * MiB),
      'memory.high': String(burstableHigh),
    });
    // BestEffort: no protection (reset to 0, so a policy turned off releases it), no memory.high.
    expect(pods.bestEffort.request).toEqual({
      'memory.oom.group': '1',
      'memory.swap.max': '0',
      'memory.min': '0',
      'memory.low': '0',
    });
    expect(pods.guaranteed.scopeFiles).toEqual({
      'memory.min': String(64 * MiB),
      'memory.low': '0',
      'memory.high': 'max',
      'memory.max': String(64 * MiB),
      'memory.swap.max': '0',
    });
    // The kernel keeps whole pages.
    expect(pods.burstable.scopeFiles).toEqual({
      'memory.min': '0',
      'memory.low': String(32 * MiB),
      'memory.high': String(burstableHigh),
      'memory.max': String(128 * MiB),
      'memory.swap.max': String(Math.floor(share / pageBytes) * pageBytes),
    });
    expect(pods.bestEffort.scopeFiles).toEqual({
      'memory.min': '0',
      'memory.low': '0',
      'memory.high': 'max',
      'memory.max': 'max',
      'memory.swap.max': '0',
    });
    // runc's systemd driver told systemd the same (unifiedResToSystemdProps), so a reload keeps
    // them: the swap share as sent (the kernel's file is page-rounded), "infinity" for max.
    expect(pods.guaranteed.scopeShow).toEqual({
      MemoryMin: String(64 * MiB),
      MemoryLow: '0',
      MemoryHigh: 'infinity',
      MemoryMax: String(64 * MiB),
      MemorySwapMax: '0',
    });
    expect(pods.burstable.scopeShow).toEqual({
      MemoryMin: '0',
      MemoryLow: String(32 * MiB),
      MemoryHigh: String(burstableHigh),
      MemoryMax: String(128 * MiB),
      MemorySwapMax: String(share),
    });
    expect(pods.bestEffort.scopeShow).toEqual({
      MemoryMin: '0',
      MemoryLow: '0',
      MemoryHigh: 'infinity',
      MemoryMax: 'infinity',
      MemorySwapMax: '0',
    });
  });

  it('PSI: the summary carries the pod slices’ and container scopes’ pressure, and /metrics/cadvisor serves it in seconds', () => {
    const { pods, node: nodeStats, kernelPsi, cadvisorPressure } = node().memory;
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
    // biome-ignore lint/suspicious/noExplicitAny: JSON from the VM
    const rows: { labels: string; stats: any }[] = [{ labels: 'id="/"', stats: nodeStats }];
    for (const key of ['guaranteed', 'burstable', 'bestEffort']) {
      const p = pods[key];
      const container = p.summary.containers[0];
      // The summary's totals (read first) against our later reading of the slice and the scope:
      // a PSI total only grows.
      for (const [stats, later] of [
        [p.summary, p.sliceStats],
        [container, p.scopeStats],
      ])
        for (const resource of ['cpu', 'memory', 'io']) {
          expect(stats[resource].psi).toMatchObject({
            some: expect.objectContaining({ total: expect.any(Number) }),
            full: expect.objectContaining({ total: expect.any(Number) }),
          });
          expect(stats[resource].psi.some.total).toBeLessThanOrEqual(later[resource].psi.some.total);
        }
      const pod = `namespace="default",pod="${p.summary.podRef.name}"`;
      rows.push(
        { labels: `container="",id="",image="",name="",${pod}`, stats: p.summary },
        { labels: `container="${container.name}",id="",image="",name="",${pod}`, stats: container },
      );
    }
    for (const { labels, stats } of rows)
      for (const resource of ['cpu', 'memory', 'io']) {
        expect(value(`${resource}_waiting`, labels)).toBeCloseTo(stats[resource].psi.some.total / 1e6, 6);
        expect(value(`${resource}_stalled`, labels)).toBeCloseTo(stats[resource].psi.full.total / 1e6, 6);
      }
    // containerd, the kubelet and systemd on 2 vCPUs: the root's CPU was contended at some point.
    expect(value('cpu_waiting', 'id="/"')).toBeGreaterThan(0);
  });

  it('a pod deleted through the API leaves no slice: not in systemd, not on the cgroup filesystem', () => {
    const { afterDelete, pods } = node();
    console.log(`deleted pod's slice: ${JSON.stringify(afterDelete.show)}\n${afterDelete.listedAll}`);
    expect(afterDelete.dirExists).toBe(false);
    // Stopped: no cgroup, not among the units systemctl lists. The transient unit is gone: what
    // `systemctl show` then loads is systemd's implicit slice of that name ("Slice /kubepods/…").
    expect(afterDelete.show.ActiveState).toBe('inactive');
    expect(afterDelete.show.Description).not.toContain('libcontainer container');
    expect(afterDelete.show.ControlGroup ?? '').toBe('');
    expect(afterDelete.listed).not.toContain(pods.burstable.unit);
    expect(afterDelete.listed).toContain(pods.guaranteed.unit);
    // And once the kubelet lets the others go, none is left.
    expect(node().slicesLeft).toEqual([]);
    expect(node().unitsLeft).not.toMatch(/pod[0-9a-f_]+\.slice/);
  });
});

describe('image volumes on containerd 2.1 with the systemd driver (ImageVolume, GA in v1.36)', () => {
  it('the BestEffort pod mounts the busybox image read-only at /img: the image’s files, no writes', () => {
    const v = r.nodes['2.1'].imageVolume;
    const [, mountPoint, , options] = v.mount.split(' ');
    expect(mountPoint).toBe('/img');
    expect(options.split(',')).toContain('ro');
    expect(v.write).toBe('touch: /img/x: Read-only file system\n1');
    // The volume is the same image as the container's root: its /bin lists the same first entries.
    expect(v.imageBin).toBe(v.ownBin);
    expect(v.imageBin.split('\n')).toHaveLength(3);
  });
});

describe('hostUsers: false on containerd 2.1 with runc 1.3, cgroup v2 and the systemd driver', () => {
  it('the container sees the mapping of its userns file, from the kubelet’s range; root inside owns the emptyDir’s files', () => {
    const u = r.nodes['2.1'].userns;
    expect(u.error, JSON.stringify(u.status)).toBeUndefined();
    const [mapping] = u.mappingsFile.uidMappings;
    expect(u.mappingsFile.gidMappings).toEqual(u.mappingsFile.uidMappings);
    expect(mapping).toMatchObject({ containerId: 0, length: 65_536 });
    expect(mapping.hostId).toBeGreaterThanOrEqual(u.kubeletMapping.firstId);
    expect(mapping.hostId + 65_536).toBeLessThanOrEqual(u.kubeletMapping.firstId + u.kubeletMapping.length);
    // /proc/self/uid_map: "<inside> <outside> <length>".
    expect(u.uidMap.split(/\s+/).map(Number)).toEqual([0, mapping.hostId, 65_536]);
    expect(u.gidMap.split(/\s+/).map(Number)).toEqual([0, mapping.hostId, 65_536]);
    expect(u.idInside).toBe('0\n0');
    expect(u.hostUid).toBe(mapping.hostId);
    // The emptyDir is idmapped: root's file inside is root's on the node too, not the pod's host ID.
    expect(u.writtenInside).toBe('0:0');
    expect(u.onHost).toBe('0:0');
    // And the pod is a BestEffort slice like the others, its container in runc's scope.
    expect(u.procCgroup).toMatch(
      /^0::\/kubepods\.slice\/kubepods-besteffort\.slice\/kubepods-besteffort-pod[0-9a-f_]+\.slice\/cri-containerd-[0-9a-f]+\.scope$/,
    );
  });
});
