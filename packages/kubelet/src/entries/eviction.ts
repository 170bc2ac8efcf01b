// @nodeagent/kubelet/eviction: The eviction manager, its signals, thresholds and ranking, and housekeeping.
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
