// Node and pod statistics for /stats/summary and the eviction manager.
export { CpuRateTracker } from './cpu-rate';
export type { CriStatsSource } from './cri-stats-source';
export { directoryUsage, fsStatsFromStatfs } from './fs-usage';
export { type HostSources, type StatFsFigures, systemHostSources } from './host-sources';
export {
  type HostNodeStatsOptions,
  HostNodeStatsProvider,
  type NodeStatsProvider,
  sampleTime,
} from './node-stats-provider';
export { assemblePodStats, type DiskUsage, type PodStatsInputs } from './pod-stats-assembly';
export { bootTimeMs, cpuUsageCoreNanoSeconds } from './proc-cpu';
export { type NodeMemoryFigures, nodeMemoryFromMeminfo, parseMeminfo } from './proc-meminfo';
export { nodeNetwork, parseNetDev } from './proc-net-dev';
export { StatsSourceError } from './stats-errors';
export { CriSummaryProvider, type CriSummaryProviderOptions, type SummaryProvider } from './summary-provider';
export type * from './summary-types';
export { maxTasks, runningTasks } from './task-limits';
