import { join } from 'node:path';
import { isUnimplemented } from '@nodeagent/cri-client';
import { ContainerState } from '@nodeagent/cri-client/types';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { podIdentityFromLabels } from '../cri/labels';
import { addCgroupPressure, type PodCgroupDirs } from './cgroup-pressure';
import { CpuRateTracker } from './cpu-rate';
import type { CriStatsSource } from './cri-stats-source';
import { directoryUsage, fsStatsFromStatfs, podVolumeUsage } from './fs-usage';
import { type HostSources, systemHostSources } from './host-sources';
import { HostNodeStatsProvider, type NodeStatsProvider, sampleTime } from './node-stats-provider';
import { assemblePodStats, type DiskUsage } from './pod-stats-assembly';
import type { PodVolumeSample } from './pod-volume-stats-cache';
import type { FsStats, Summary } from './summary-types';

export interface SummaryProvider extends NodeStatsProvider {
  /** The whole /stats/summary document. */
  summary(): Promise<Summary>;
}

/** What {@link CriSummaryProvider} asks (the CRI, /proc, statfs) and where pod files live. */
export interface CriSummaryProviderOptions {
  /** Reported as the summary's node.nodeName. */
  nodeName: string;
  /** --root-dir: nodefs, and where pod volumes live (<rootDir>/pods/<uid>/volumes). */
  rootDir: string;
  /** podLogsDir: <podLogsDir>/<ns>_<name>_<uid>/<container>/ holds each container's logs. */
  podLogsDir: string;
  /** The runtime's list and stats calls (a CriClient, or canned answers in tests). */
  cri: CriStatsSource;
  /** /proc and statfs (default: this host's, {@link systemHostSources}). */
  sources?: HostSources;
  /** Sample times and CPU rates run on it (default: the system clock). */
  clock?: Clock;
  /** Node figures; default a HostNodeStatsProvider over the same sources. */
  node?: NodeStatsProvider;
  /**
   * The pod cgroups (cgroupsPerQOS on cgroup v2): pods and their running containers then get the
   * cpu, memory and io PSI of their cgroups, as upstream's cAdvisor gives them. None: no PSI.
   */
  podCgroups?: PodCgroupDirs;
  /**
   * Where pod volume usage comes from: a {@link PodVolumeStatsCache} (upstream's fsResourceAnalyzer,
   * every volumeStatsAggPeriod), or `none` (volumeStatsAggPeriod 0: no volume stats). Default:
   * measured at each summary.
   */
  volumeStats?: PodVolumeStatsSource | 'none';
}

/** Pod volume usage as last measured, by pod uid (a {@link PodVolumeStatsCache}). */
export interface PodVolumeStatsSource {
  /** The pod's last sample, or undefined before its first measurement. */
  get(uid: string): PodVolumeSample | undefined;
}

/**
 * /stats/summary from the CRI (upstream's CRI stats provider): pod and container cpu/memory from
 * ListPodSandboxStats/ListContainerStats, writable layers and the image filesystem from the
 * runtime, logs and volumes measured on disk, the node from /proc and statfs.
 */
export class CriSummaryProvider implements SummaryProvider {
  private readonly options: CriSummaryProviderOptions;
  private readonly sources: HostSources;
  private readonly clock: Clock;
  private readonly node: NodeStatsProvider;
  private readonly cpuRate = new CpuRateTracker();
  /** Set once the runtime answered ListPodSandboxStats with Unimplemented (containerd < 1.7). */
  private sandboxStatsUnsupported = false;

  constructor(options: CriSummaryProviderOptions) {
    this.options = options;
    this.sources = options.sources ?? systemHostSources();
    this.clock = options.clock ?? systemClock;
    this.node =
      options.node ??
      new HostNodeStatsProvider({
        nodeName: options.nodeName,
        rootDir: options.rootDir,
        sources: this.sources,
        clock: this.clock,
        imageFs: () => this.imageFs(),
      });
  }

  nodeStats() {
    return this.node.nodeStats();
  }

  /** The runtime's image filesystem: used bytes/inodes from ImageFsInfo, capacity from statfs of its mountpoint. */
  async imageFs(): Promise<FsStats | undefined> {
    const info = await this.options.cri.imageFsInfo();
    const fs = info.imageFilesystems[0];
    if (!fs) return undefined;
    const time = sampleTime(this.clock.now());
    const mountpoint = fs.fsId?.mountpoint;
    const capacity = mountpoint
      ? await this.sources.statfs(mountpoint).then(
          (s) => fsStatsFromStatfs(s, time),
          () => undefined,
        )
      : undefined;
    return {
      ...(capacity ?? { time }),
      usedBytes: fs.usedBytes ? Number(fs.usedBytes.value) : capacity?.usedBytes,
      inodesUsed: fs.inodesUsed ? Number(fs.inodesUsed.value) : capacity?.inodesUsed,
    };
  }

  async summary(): Promise<Summary> {
    const { cri } = this.options;
    const node = await this.node.nodeStats();
    const [sandboxes, containers, containerStats, sandboxStats] = await Promise.all([
      cri.listPodSandbox({}),
      cri.listContainers({}),
      cri.listContainerStats({}),
      this.listSandboxStats(),
    ]);
    const logUsage = new Map<string, DiskUsage>();
    const volumeUsage = new Map<string, Map<string, DiskUsage>>();
    const sandboxById = new Map(sandboxes.items.map((s) => [s.id, s]));
    await Promise.all(
      containers.containers.map(async (container) => {
        const identity = podIdentityFromLabels(sandboxById.get(container.podSandboxId)?.labels);
        if (!identity || !container.metadata) return;
        const dir = join(
          this.options.podLogsDir,
          `${identity.namespace}_${identity.name}_${identity.uid}`,
          container.metadata.name,
        );
        logUsage.set(container.id, await directoryUsage(dir));
      }),
    );
    await Promise.all(
      sandboxes.items.map(async (sandbox) => {
        const identity = podIdentityFromLabels(sandbox.labels);
        if (!identity || volumeUsage.has(identity.uid)) return;
        const volumes = await this.podVolumes(identity.uid);
        if (volumes) volumeUsage.set(identity.uid, volumes);
      }),
    );
    const pods = assemblePodStats({
      nowMs: this.clock.now(),
      sandboxes: sandboxes.items,
      containers: containers.containers,
      containerStats: containerStats.stats,
      sandboxStats,
      imageFs: node.runtime?.imageFs,
      nodeFs: node.fs,
      logUsage,
      volumeUsage,
      cpuRate: this.cpuRate,
    });
    if (this.options.podCgroups) {
      // Pod UID → container name → ID of its running containers: where their cgroups are.
      const containerIds = new Map<string, Map<string, string>>();
      for (const container of containers.containers) {
        const identity = podIdentityFromLabels(sandboxById.get(container.podSandboxId)?.labels);
        if (!identity || !container.metadata || container.state !== ContainerState.CONTAINER_RUNNING)
          continue;
        const byName = containerIds.get(identity.uid) ?? new Map<string, string>();
        byName.set(container.metadata.name, container.id);
        containerIds.set(identity.uid, byName);
      }
      await addCgroupPressure(pods, containerIds, this.options.podCgroups, sampleTime(this.clock.now()));
    }
    return { node, pods };
  }

  private async listSandboxStats() {
    if (this.sandboxStatsUnsupported) return undefined;
    try {
      return (await this.options.cri.listPodSandboxStats({})).stats;
    } catch (error) {
      // Unimplemented: fall back to container stats from now on; other errors only this round.
      if (isUnimplemented(error)) this.sandboxStatsUnsupported = true;
      return undefined;
    }
  }

  /** A pod's volumes: measured now, read from the cache (with the time they were measured), or none. */
  private async podVolumes(uid: string): Promise<Map<string, DiskUsage> | undefined> {
    const source = this.options.volumeStats;
    if (source === undefined) return podVolumeUsage(this.options.rootDir, uid);
    if (source === 'none') return undefined;
    const sample = source.get(uid);
    if (!sample) return undefined;
    const time = sampleTime(sample.atMs);
    return new Map([...sample.volumes].map(([name, used]) => [name, { ...used, time }]));
  }
}
