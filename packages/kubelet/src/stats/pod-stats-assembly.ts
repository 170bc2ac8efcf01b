import {
  type Container,
  ContainerState,
  type CpuUsage,
  type ContainerStats as CriContainerStats,
  type MemoryUsage,
  type NetworkUsage,
  type PodSandbox,
  PodSandboxState,
  type PodSandboxStats,
  type UInt64Value,
} from '@nodeagent/cri-client/types';
import { podIdentityFromLabels } from '../cri/labels';
import type { CpuRateTracker } from './cpu-rate';
import { sampleTime } from './node-stats-provider';
import type {
  ContainerStats,
  CPUStats,
  FsStats,
  MemoryStats,
  NetworkStats,
  PodStats,
  VolumeStats,
} from './summary-types';

/** What a directory tree (a container's logs, a pod volume) holds, as {@link directoryUsage} measures it. */
export interface DiskUsage {
  /** The files' sizes added up (apparent size, not allocated blocks). */
  bytes: number;
  /** Entries counted in the tree. */
  inodes: number;
  /** When it was measured, where that is earlier than the summary (volumes read from a cache). */
  time?: string;
  /**
   * A volume on a filesystem of its own (a CSI volume, from its driver's NodeGetVolumeStats):
   * its capacity and free space instead of the node filesystem's, its claim, its health. Such a
   * volume is not local ephemeral storage: the pod's ephemeral-storage leaves it out, as upstream.
   */
  ownFs?: {
    /** The volume's size. */
    capacityBytes?: number;
    /** Bytes free on it. */
    availableBytes?: number;
    /** Its inodes in all. */
    inodes?: number;
    /** Its inodes free. */
    inodesFree?: number;
    /** The claim it belongs to (the summary's pvcRef). */
    pvcRef?: { name: string; namespace: string };
    /** The driver's VolumeCondition said abnormal (volumeHealthStats). */
    abnormal?: boolean;
  };
}

/** Everything one round of pod stats is built from: CRI answers plus what was measured on disk. */
export interface PodStatsInputs {
  nowMs: number;
  sandboxes: PodSandbox[];
  containers: Container[];
  containerStats: CriContainerStats[];
  /** ListPodSandboxStats, or undefined when the runtime does not implement it. */
  sandboxStats?: PodSandboxStats[];
  /** Capacity and free space of the image filesystem (writable layers live there). */
  imageFs?: FsStats;
  /** Capacity and free space of the node filesystem (logs and volumes live there). */
  nodeFs?: FsStats;
  /** Log directory usage by container id. */
  logUsage: Map<string, DiskUsage>;
  /** Volume usage by pod uid, then volume name. */
  volumeUsage: Map<string, Map<string, DiskUsage>>;
  cpuRate: CpuRateTracker;
}

const u64 = (value: UInt64Value | null | undefined): number | undefined =>
  value ? Number(value.value) : undefined;

function timeOf(ns: bigint | undefined, fallbackMs: number): string {
  return sampleTime(ns && ns > 0n ? Number(ns / 1_000_000n) : fallbackMs);
}

function cpuStats(cpu: CpuUsage, key: string, inputs: PodStatsInputs): CPUStats {
  const usage = u64(cpu.usageCoreNanoSeconds);
  const atNs = cpu.timestamp > 0n ? Number(cpu.timestamp) : inputs.nowMs * 1e6;
  return {
    time: timeOf(cpu.timestamp, inputs.nowMs),
    usageCoreNanoSeconds: usage,
    // The runtime's own rate when it has one; otherwise the change since our last sample.
    usageNanoCores:
      u64(cpu.usageNanoCores) ?? (usage === undefined ? undefined : inputs.cpuRate.rate(key, usage, atNs)),
  };
}

function memoryStats(memory: MemoryUsage, nowMs: number): MemoryStats {
  return {
    time: timeOf(memory.timestamp, nowMs),
    availableBytes: u64(memory.availableBytes),
    usageBytes: u64(memory.usageBytes),
    workingSetBytes: u64(memory.workingSetBytes),
    rssBytes: u64(memory.rssBytes),
    pageFaults: u64(memory.pageFaults),
    majorPageFaults: u64(memory.majorPageFaults),
  };
}

function networkStats(network: NetworkUsage, nowMs: number): NetworkStats | undefined {
  const iface = network.defaultInterface ?? network.interfaces[0];
  if (!iface) return undefined;
  const convert = (i: typeof iface) => ({
    name: i.name,
    rxBytes: u64(i.rxBytes),
    rxErrors: u64(i.rxErrors),
    txBytes: u64(i.txBytes),
    txErrors: u64(i.txErrors),
  });
  return {
    time: timeOf(network.timestamp, nowMs),
    ...convert(iface),
    interfaces: network.interfaces.map(convert),
  };
}

/** Used figures on a filesystem whose capacity and free space come from `fs`. */
function usageOn(fs: FsStats | undefined, time: string, used: DiskUsage | undefined): FsStats {
  return {
    time,
    availableBytes: fs?.availableBytes,
    capacityBytes: fs?.capacityBytes,
    usedBytes: used?.bytes,
    inodesFree: fs?.inodesFree,
    inodes: fs?.inodes,
    inodesUsed: used?.inodes,
  };
}

/** One pod volume's VolumeStats: on the node filesystem, or on its own (with pvcRef and health). */
function volumeStats(name: string, used: DiskUsage, nodeFs: FsStats | undefined, time: string): VolumeStats {
  if (!used.ownFs) return { name, ...usageOn(nodeFs, time, used) };
  const { pvcRef, abnormal, ...fs } = used.ownFs;
  return {
    name,
    ...usageOn({ time, ...fs }, time, used),
    ...(pvcRef ? { pvcRef } : {}),
    ...(abnormal !== undefined ? { volumeHealthStats: { abnormal } } : {}),
  };
}

/** Code-point order: stable output without localeCompare's cost on a full node. */
const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const sum = (values: (number | undefined)[]): number | undefined =>
  values.every((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);

function sumCpu(parts: CPUStats[], time: string): CPUStats {
  return {
    time,
    usageCoreNanoSeconds: sum(parts.map((c) => c.usageCoreNanoSeconds)),
    usageNanoCores: sum(parts.map((c) => c.usageNanoCores)),
  };
}

function sumMemory(parts: MemoryStats[], time: string): MemoryStats {
  return {
    time,
    usageBytes: sum(parts.map((m) => m.usageBytes)),
    workingSetBytes: sum(parts.map((m) => m.workingSetBytes)),
    rssBytes: sum(parts.map((m) => m.rssBytes)),
    pageFaults: sum(parts.map((m) => m.pageFaults)),
    majorPageFaults: sum(parts.map((m) => m.majorPageFaults)),
  };
}

/**
 * The pods[] of the summary: one entry per ready sandbox with kubelet pod labels, holding its
 * running containers. Pod cpu/memory/network/process come from ListPodSandboxStats when the
 * runtime has it, else pod cpu and memory are the sums of the containers'.
 */
export function assemblePodStats(inputs: PodStatsInputs): PodStats[] {
  const time = sampleTime(inputs.nowMs);
  const statsById = new Map<string, CriContainerStats>();
  for (const s of inputs.containerStats) if (s.attributes) statsById.set(s.attributes.id, s);
  for (const sandbox of inputs.sandboxStats ?? [])
    for (const s of sandbox.linux?.containers ?? [])
      if (s.attributes && !statsById.has(s.attributes.id)) statsById.set(s.attributes.id, s);
  const sandboxStatsById = new Map<string, PodSandboxStats>();
  for (const s of inputs.sandboxStats ?? []) if (s.attributes) sandboxStatsById.set(s.attributes.id, s);
  const containersBySandbox = new Map<string, Container[]>();
  for (const container of inputs.containers) {
    if (container.state !== ContainerState.CONTAINER_RUNNING) continue;
    const list = containersBySandbox.get(container.podSandboxId);
    if (list) list.push(container);
    else containersBySandbox.set(container.podSandboxId, [container]);
  }
  const seen = new Set<string>();
  const pods: PodStats[] = [];
  for (const sandbox of inputs.sandboxes) {
    if (sandbox.state !== PodSandboxState.SANDBOX_READY) continue;
    const identity = podIdentityFromLabels(sandbox.labels);
    if (!identity) continue;
    const containers: ContainerStats[] = [];
    for (const container of containersBySandbox.get(sandbox.id) ?? []) {
      const stats = statsById.get(container.id);
      seen.add(container.id);
      containers.push({
        name: container.metadata?.name ?? '',
        startTime: timeOf(container.createdAt, inputs.nowMs),
        cpu: stats?.cpu ? cpuStats(stats.cpu, container.id, inputs) : undefined,
        memory: stats?.memory ? memoryStats(stats.memory, inputs.nowMs) : undefined,
        rootfs: usageOn(inputs.imageFs, time, {
          bytes: u64(stats?.writableLayer?.usedBytes) ?? 0,
          inodes: u64(stats?.writableLayer?.inodesUsed) ?? 0,
        }),
        logs: usageOn(inputs.nodeFs, time, inputs.logUsage.get(container.id)),
      });
    }
    containers.sort((a, b) => byKey(a.name, b.name));
    const volumes: VolumeStats[] = [...(inputs.volumeUsage.get(identity.uid) ?? new Map())]
      .sort(([a], [b]) => byKey(a, b))
      .map(([name, used]) => volumeStats(name, used, inputs.nodeFs, used.time ?? time));
    const ephemeral = volumes.filter((v) => !inputs.volumeUsage.get(identity.uid)?.get(v.name)?.ownFs);
    const linux = sandboxStatsById.get(sandbox.id)?.linux;
    const pod: PodStats = {
      podRef: identity,
      startTime: timeOf(sandbox.createdAt, inputs.nowMs),
      containers,
      cpu: linux?.cpu
        ? cpuStats(linux.cpu, `pod/${sandbox.id}`, inputs)
        : sumCpu(
            containers.flatMap((c) => (c.cpu ? [c.cpu] : [])),
            time,
          ),
      memory: linux?.memory
        ? memoryStats(linux.memory, inputs.nowMs)
        : sumMemory(
            containers.flatMap((c) => (c.memory ? [c.memory] : [])),
            time,
          ),
      volume: volumes,
      'ephemeral-storage': usageOn(inputs.nodeFs, time, {
        bytes:
          sum([
            ...containers.flatMap((c) => [c.rootfs?.usedBytes, c.logs?.usedBytes]),
            ...ephemeral.map((v) => v.usedBytes),
          ]) ?? 0,
        inodes:
          sum([
            ...containers.flatMap((c) => [c.rootfs?.inodesUsed, c.logs?.inodesUsed]),
            ...ephemeral.map((v) => v.inodesUsed),
          ]) ?? 0,
      }),
    };
    const network = linux?.network ? networkStats(linux.network, inputs.nowMs) : undefined;
    if (network) pod.network = network;
    const processes = u64(linux?.process?.processCount);
    if (processes !== undefined) pod.process_stats = { process_count: processes };
    pods.push(pod);
  }
  inputs.cpuRate.retain(new Set([...seen, ...[...sandboxStatsById.keys()].map((id) => `pod/${id}`), 'node']));
  return pods.sort(
    (a, b) => byKey(a.podRef.namespace, b.podRef.namespace) || byKey(a.podRef.name, b.podRef.name),
  );
}
