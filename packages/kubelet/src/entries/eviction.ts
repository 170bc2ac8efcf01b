// @nodeagent/kubelet/eviction: The eviction manager, its signals, thresholds and ranking, and housekeeping;
// also graceful node shutdown (the other way the kubelet itself stops pods for the node's sake).
export { isCriticalPod, systemCriticalPriority } from '../eviction/critical-pod';
export {
  type ConfiguredThreshold,
  type EvictionSettings,
  evictionSettingsFromConfig,
  isHardThreshold,
} from '../eviction/eviction-config';
export {
  type AdmitResult,
  defaultEvictionMonitoringPeriodMs,
  EvictionManager,
  type EvictionManagerOptions,
  type EvictionStatus,
  immediateEvictionGracePeriodSeconds,
  memoryPressureTaintKey,
  type PressureSignals,
} from '../eviction/eviction-manager';
export {
  evictedReason,
  evictionMessage,
  nodeConditionMessage,
  nodeLowMessage,
} from '../eviction/eviction-message';
export type { HousekeepingMetrics } from '../eviction/housekeeping-metrics';
export { KubeletHousekeeping, type KubeletHousekeepingOptions } from '../eviction/kubelet-housekeeping';
export type { PodStatsLookup } from '../eviction/pod-usage';
export { rankPodsForEviction } from '../eviction/rank-pods';
export {
  type SignalObservation,
  type SignalObservations,
  signalObservations,
} from '../eviction/signal-observations';
export {
  type PressureCondition,
  type StarvedResource,
  signalToNodeCondition,
  signalToResource,
} from '../eviction/signal-resources';
export type { ShutdownKillPod, WaitForUnmount } from '../nodeshutdown/kill-pods-by-priority';
export {
  kubeletShutdownKill,
  kubeletWaitForUnmount,
  nodeShutdownMessage,
  nodeShutdownReason,
} from '../nodeshutdown/kubelet-shutdown-kill';
export {
  LogindDbus,
  type LogindDbusLocation,
  systemBusPath,
  systemBusPathFromEnv,
} from '../nodeshutdown/logind-dbus';
export type { InhibitLock, LogindInhibitor, ShutdownWatch } from '../nodeshutdown/logind-inhibitor';
export {
  NodeShutdownManager,
  type NodeShutdownManagerOptions,
  nodeShutdownNotAdmittedMessage,
  nodeShutdownNotAdmittedReason,
  nodeShuttingDownError,
  type ShutdownAdmitResult,
} from '../nodeshutdown/node-shutdown-manager';
export {
  type ShutdownGracePeriodByPriority,
  type ShutdownGracePeriodFields,
  shutdownGracePeriods,
} from '../nodeshutdown/shutdown-grace-periods';
export { registerShutdownMetrics, type ShutdownMetrics } from '../nodeshutdown/shutdown-metrics';
export {
  ShutdownStateFile,
  type ShutdownTimes,
  shutdownStateFileName,
} from '../nodeshutdown/shutdown-state-file';
