import { type Clock, systemClock } from '@nodeagent/primitives';
import { rfc3339 } from '../rfc3339';
import { type CgroupPressure, readCgroupPressure } from './cgroup-pressure';
import { CpuRateTracker } from './cpu-rate';
import { fsStatsFromStatfs } from './fs-usage';
import { type HostSources, systemHostSources } from './host-sources';
import { bootTimeMs, cpuUsageCoreNanoSeconds } from './proc-cpu';
import {
  nodeMemoryFromCgroupV1Root,
  nodeMemoryFromCgroupV2Root,
  nodeMemoryFromMeminfo,
  nodeSwapFromMeminfo,
} from './proc-meminfo';
import { nodeNetwork, parseNetDev } from './proc-net-dev';
import type { FsStats, NodeStats } from './summary-types';
import { maxTasks, runningTasks } from './task-limits';

/**
 * The node figures of /stats/summary, for the server and for anyone else who needs them (the
 * eviction manager's memory.available, nodefs/imagefs available and inodesFree, pid.available).
 */
export interface NodeStatsProvider {
  /** A fresh sample of the node: cpu, memory, network, fs (nodefs), runtime.imageFs, rlimit. */
  nodeStats(): Promise<NodeStats>;
}

/** What {@link HostNodeStatsProvider} measures and where it reads it. */
export interface HostNodeStatsOptions {
  /** Reported as the summary's node.nodeName. */
  nodeName: string;
  /** --root-dir: its filesystem is the node's fs (nodefs). */
  rootDir: string;
  /** The runtime's image filesystem (CRI ImageFsInfo), when there is a runtime to ask. */
  imageFs?: () => Promise<FsStats | undefined>;
  /** /proc and statfs (default: this host's, {@link systemHostSources}). */
  sources?: HostSources;
  /** Sample times and CPU rates run on it (default: the system clock). */
  clock?: Clock;
}

/** Precise RFC 3339 (milliseconds) for sample times; metav1.Time parses either form. */
export function sampleTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** NodeStatsProvider over /proc and statfs of the kubelet root dir. */
export class HostNodeStatsProvider implements NodeStatsProvider {
  private readonly options: HostNodeStatsOptions;
  private readonly sources: HostSources;
  private readonly clock: Clock;
  private readonly cpuRate = new CpuRateTracker();

  constructor(options: HostNodeStatsOptions) {
    this.options = options;
    this.sources = options.sources ?? systemHostSources();
    this.clock = options.clock ?? systemClock;
  }

  async nodeStats(): Promise<NodeStats> {
    const nowMs = this.clock.now();
    const time = sampleTime(nowMs);
    const read = (path: string) => this.sources.readProc(path);
    const [
      meminfo,
      rootMemory,
      rootPressure,
      stat,
      uptime,
      netDev,
      pidMax,
      threadsMax,
      loadavg,
      rootFs,
      imageFs,
    ] = await Promise.all([
      read('meminfo'),
      this.rootCgroupMemoryFiles(),
      this.rootCgroupPressure(),
      read('stat'),
      read('uptime'),
      read('net/dev').catch(() => ''),
      read('sys/kernel/pid_max'),
      read('sys/kernel/threads-max'),
      read('loadavg'),
      this.sources.statfs(this.options.rootDir),
      this.options.imageFs?.(),
    ]);
    const memory =
      rootMemory === undefined
        ? nodeMemoryFromMeminfo(meminfo)
        : rootMemory.version === 2
          ? nodeMemoryFromCgroupV2Root(meminfo, rootMemory.memoryStat)
          : nodeMemoryFromCgroupV1Root(meminfo, rootMemory.usageInBytes, rootMemory.memoryStat);
    const swap = nodeSwapFromMeminfo(meminfo);
    const usageCoreNanoSeconds = cpuUsageCoreNanoSeconds(stat);
    const network = nodeNetwork(parseNetDev(netDev));
    const node: NodeStats = {
      nodeName: this.options.nodeName,
      startTime: rfc3339(bootTimeMs(uptime, nowMs)),
      cpu: {
        time,
        usageCoreNanoSeconds,
        usageNanoCores: this.cpuRate.rate('node', usageCoreNanoSeconds, nowMs * 1e6),
      },
      memory: {
        time,
        availableBytes: memory.availableBytes,
        usageBytes: memory.usageBytes,
        workingSetBytes: memory.workingSetBytes,
      },
      // Upstream's root container figures: usage, and the capacity left (0 and 0 without swap).
      swap: { time, swapAvailableBytes: swap.availableBytes, swapUsageBytes: swap.usageBytes },
      fs: fsStatsFromStatfs(rootFs, time),
      runtime: imageFs ? { imageFs } : {},
      rlimit: { time, maxpid: maxTasks(pidMax, threadsMax), curproc: runningTasks(loadavg) },
    };
    if (network.primary) node.network = { time, ...network.primary, interfaces: network.interfaces };
    // The root cgroup's PSI (v2), as cAdvisor's root container has it.
    if (rootPressure?.cpu && node.cpu) node.cpu.psi = rootPressure.cpu;
    if (rootPressure?.memory && node.memory) node.memory.psi = rootPressure.memory;
    if (rootPressure?.io) node.io = { time, psi: rootPressure.io };
    return node;
  }

  /** cpu/memory/io.pressure of the cgroup v2 root; undefined on v1, with PSI off, or without a cgroup source. */
  private async rootCgroupPressure(): Promise<CgroupPressure | undefined> {
    const readRoot = this.sources.readCgroupRoot?.bind(this.sources);
    if (!readRoot) return undefined;
    // A pressure file that cannot be parsed costs the node its PSI, not its memory.available.
    return readCgroupPressure('', (_dir, file) => readRoot(file)).catch(() => undefined);
  }

  /**
   * The root memory cgroup's files, as cAdvisor reads the root container: a v2 root has
   * memory.stat at the mount root; a v1 (or hybrid) host keeps memory.usage_in_bytes and
   * memory.stat in the memory hierarchy's directory. Undefined where neither can be read (no
   * cgroup source, or no memory controller mounted): the node then falls back to /proc/meminfo.
   */
  private async rootCgroupMemoryFiles(): Promise<
    { version: 2; memoryStat: string } | { version: 1; usageInBytes: string; memoryStat: string } | undefined
  > {
    const readRoot = this.sources.readCgroupRoot?.bind(this.sources);
    if (!readRoot) return undefined;
    const v2Stat = await readRoot('memory.stat').catch(() => undefined);
    if (v2Stat !== undefined) return { version: 2, memoryStat: v2Stat };
    const [usageInBytes, memoryStat] = await Promise.all([
      readRoot('memory/memory.usage_in_bytes').catch(() => undefined),
      readRoot('memory/memory.stat').catch(() => undefined),
    ]);
    if (usageInBytes === undefined || memoryStat === undefined) return undefined;
    return { version: 1, usageInBytes, memoryStat };
  }
}
