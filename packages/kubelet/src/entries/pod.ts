// @nodeagent/kubelet/pod: The pod lifecycle: sync, workers, PLEG, status generation, probing, container GC, env and field
// references.

export { podQOSClass, type QOSClass } from '../api/qos-class';
export { containerHash } from '../cri/container-hash';
export { expandVars } from '../env/expand-vars';
export { type DownwardContext, formatMap, resolveFieldPath, resolveResourceField } from '../env/field-ref';
export {
  decodeSecretData,
  type EnvVarValue,
  expandCommand,
  type ObjectSource,
  type ResolveEnvOptions,
  resolveEnv,
} from '../env/resolve-env';
export { type ServiceLink, type ServiceLister, serviceEnvVarMap } from '../env/service-env';
// The Kubelet's option groups (the Kubelet and KubeletOptions are at the package root).
export type {
  KubeletApi,
  KubeletImages,
  KubeletNode,
  KubeletPacing,
  KubeletProbes,
} from '../kubelet-options';
export {
  GenericPLEG,
  type GenericPLEGOptions,
  type PodLifecycleEvent,
  type PodLifecycleEventType,
} from '../pleg/generic-pleg';
export { type CachedPodStatus, PodCache } from '../pleg/pod-cache';
export {
  type ContainerToKill,
  computePodActions,
  type PodActions,
  shouldRestart,
} from '../pod/compute-pod-actions';
export {
  containerShouldRestart,
  isContainerRestartable,
  matchingRestartRule,
} from '../pod/container-restart-rules';
export {
  type BackOffDecision,
  type BackOffOptions,
  CrashLoopBackOff,
  containerBackOffKey,
} from '../pod/crash-loop-backoff';
export {
  allContainersCouldRestart,
  allContainersRestartCleanedUp,
  allContainersRestartingType,
  type ContainerToRemove,
  containersToReset,
  isRestartingAllContainers,
  restartAllContainersAction,
  shouldAllContainersRestart,
} from '../pod/restart-all-containers';
export { validatePod } from '../pod/validate-pod';
export { PodProber } from '../probes/pod-prober';
export type { ProbeState } from '../probes/probe-state';
export { type LastKnownContainer, lastKnownContainer } from '../probes/readiness-after-restart';
export {
  type ContainerWaitingReason,
  generatePodStatus,
  type PodStatusInputs,
  rejectedPodStatus,
} from '../status/generate-pod-status';
export { isTerminalPhase, podPhase } from '../status/pod-phase';
export {
  type ContainerTermination,
  MAX_STATUS_HOLD_MS,
  type PodStatusWriter,
  StatusManager,
  type StatusManagerOptions,
} from '../status/status-manager';
export {
  ContainerGarbageCollector,
  type ContainerGarbageCollectorOptions,
  containerGCPeriodMs,
  type PodLiveness,
} from '../sync/container-garbage-collector';
export {
  evictableRuntimeObjects,
  garbageCollectAllPods,
  garbageCollectPod,
  maxPerPodContainer,
} from '../sync/container-gc';
export { effectivePullPolicy, ensureImage, imageUser } from '../sync/image-puller';
export { type HookContext, type HookOutcome, resolvePort, runLifecycleHook } from '../sync/lifecycle-hooks';
export type { NodeFactsReader } from '../sync/node-facts';
export type { PodRejection, PodStopReason } from '../sync/pod-state-store';
export {
  defaultTerminationGracePeriodSeconds,
  minimumGracePeriodSeconds,
  PodSyncer,
  type PodSyncerClusterOptions,
  type PodSyncerHost,
  type PodSyncerListenerOptions,
  type PodSyncerOptions,
  type SyncOutcome,
} from '../sync/pod-syncer';
export {
  imageRegistry,
  type PullCredentials,
  pullCredentials,
  pullCredentialsFor,
} from '../sync/pull-secrets';
export {
  crashLoopBackOffReason,
  ReasonCache,
  reportedWaitingReasons,
} from '../sync/reason-cache';
export { SyncStepError } from '../sync/sync-errors';
export {
  type PodUpdate,
  type PodUpdateType,
  type PodWorkerCallbacks,
  type PodWorkerPhase,
  PodWorkers,
  type SyncPodResult,
} from '../workers/pod-workers';
