// Node and pod statistics for /stats/summary and the eviction manager.

export {
  addCgroupPressure,
  type CgroupPressure,
  containerCgroupDirNames,
  type PodCgroupDirs,
  readCgroupPressure,
} from '../stats/cgroup-pressure';
export {
  type CgroupFileReader,
  type CgroupIODevice,
  type CgroupV2Sample,
  parseFlatKeyed,
  parseIoStat,
  parsePressure,
  readCgroupV2Stats,
} from '../stats/cgroup-v2-stats';
export { CpuRateTracker } from '../stats/cpu-rate';
export type { CriStatsSource } from '../stats/cri-stats-source';
export { directoryUsage, fsStatsFromStatfs, podVolumeUsage } from '../stats/fs-usage';
export { type HostSources, type StatFsFigures, systemHostSources } from '../stats/host-sources';
export {
  type HostNodeStatsOptions,
  HostNodeStatsProvider,
  type NodeStatsProvider,
  sampleTime,
} from '../stats/node-stats-provider';
export { assemblePodStats, type DiskUsage, type PodStatsInputs } from '../stats/pod-stats-assembly';
export {
  type PodVolumeSample,
  PodVolumeStatsCache,
  type PodVolumeStatsCacheOptions,
} from '../stats/pod-volume-stats-cache';
export { bootTimeMs, cpuUsageCoreNanoSeconds } from '../stats/proc-cpu';
export {
  type NodeMemoryFigures,
  nodeMemoryFromCgroupV1Root,
  nodeMemoryFromCgroupV2Root,
  nodeMemoryFromMeminfo,
  nodeSwapFromMeminfo,
  parseMeminfo,
} from '../stats/proc-meminfo';
export { nodeNetwork, parseNetDev } from '../stats/proc-net-dev';
export { StatsSourceError } from '../stats/stats-errors';
export {
  CriSummaryProvider,
  type CriSummaryProviderOptions,
  type PodVolumeStatsSource,
  type SummaryProvider,
} from '../stats/summary-provider';
export type * from '../stats/summary-types';
export { maxTasks, runningTasks } from '../stats/task-limits';
