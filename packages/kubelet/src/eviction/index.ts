// @nodeagent/kubelet/eviction: The eviction manager, its signals, thresholds and ranking, and housekeeping.
export { isCriticalPod, systemCriticalPriority } from './critical-pod';
export {
  type ConfiguredThreshold,
  type EvictionSettings,
  evictionSettingsFromConfig,
  isHardThreshold,
} from './eviction-config';
export {
  type AdmitResult,
  defaultEvictionMonitoringPeriodMs,
  EvictionManager,
  type EvictionManagerOptions,
  immediateEvictionGracePeriodSeconds,
  memoryPressureTaintKey,
  type PressureSignals,
} from './eviction-manager';
export {
  evictedReason,
  evictionMessage,
  nodeConditionMessage,
  nodeLowMessage,
} from './eviction-message';
export { KubeletHousekeeping, type KubeletHousekeepingOptions } from './kubelet-housekeeping';
export { rankPodsForEviction } from './rank-pods';
export {
  type SignalObservation,
  type SignalObservations,
  signalObservations,
} from './signal-observations';
export {
  type PressureCondition,
  type StarvedResource,
  signalToNodeCondition,
  signalToResource,
} from './signal-resources';
