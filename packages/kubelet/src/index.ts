// Public surface of @nodeagent/kubelet: the pod-lifecycle engine and its pure building blocks.

// Kept at the root for existing callers; defined once in @nodeagent/primitives.
export {
  type Clock,
  FakeClock,
  formatDuration,
  milliValue,
  parseDuration,
  parseQuantity,
  systemClock,
} from '@nodeagent/primitives';
export {
  admitPod,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
  podRejectedPrefix,
} from './admission/admit-handler';
export {
  type EphemeralContainerCheck,
  type EphemeralContainerChecksOptions,
  ephemeralContainerChecks,
} from './admission/ephemeral-container-checks';
export { type KubeletAdmitHandlersOptions, kubeletAdmitHandlers } from './admission/kubelet-admit-handlers';
export { safeSysctlAllowlist, safeSysctls } from './admission/safe-sysctls';
export { SysctlAllowlist, sysctlForbiddenReason } from './admission/sysctl-allowlist';
export * from './api/pod-types';
export * from './certificates/index';
export * from './cgroups/cgroup-errors';
export {
  type CgroupFilesystem,
  CgroupV1Filesystem,
  CgroupV2Filesystem,
  defaultCgroupMountRoot,
  detectCgroupFilesystem,
} from './cgroups/cgroup-filesystem';
export * from './cgroups/cgroup-name';
export * from './cgroups/cgroup-resources';
export { PodCgroupManager, type PodCgroupManagerOptions } from './cgroups/pod-cgroup-manager';
export { podCgroupRuntime } from './cgroups/pod-cgroup-runtime';
export { type PodResourceConfigOptions, podResourceConfig } from './cgroups/pod-resource-config';
export {
  listDropInFiles,
  mergeConfigurationDropIns,
  mergeConfigurationPatch,
} from './config/config-drop-ins';
export {
  type EvictionSignal,
  type EvictionThreshold,
  evictionSignals,
  parseEvictionThresholds,
  type ThresholdValue,
  thresholdMet,
} from './config/eviction-thresholds';
export {
  type FieldSupport,
  kubeletConfigurationFieldSupport,
  type UnsupportedFieldWarning,
  unsupportedFieldWarnings,
} from './config/field-support';
export {
  defaultEvictionHard,
  defaultKubeletConfiguration,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  kubeletConfigurationSchema,
  type ParsedKubeletConfiguration,
  type ParseKubeletConfigurationOptions,
  parseKubeletConfiguration,
} from './config/kubelet-configuration';
export {
  applyConfigurationOverrides,
  decodeKubeletConfigurationText,
  loadKubeletConfigurationFile,
  parseKubeletConfigurationText,
  readKubeletConfigurationFile,
} from './config/load-config-file';
export { applyV1beta1ZeroDefaults } from './config/v1beta1-defaults';
export {
  appArmorAdmission,
  appArmorHostError,
  containerAppArmor,
  effectiveAppArmorProfile,
} from './cri/apparmor-profile';
export * from './cri/container-config';
export * from './cri/dns-config';
export * from './cri/labels';
export * from './cri/linux-resources';
export * from './cri/log-paths';
export * from './cri/sandbox-config';
export { containerSeccompProfile, type SeccompOptions } from './cri/seccomp-profile';
export {
  type ContainerSecurityOptions,
  effectiveSecurityContext,
  linuxContainerSecurityContext,
  linuxSandboxSecurityContext,
  namespacesForPod,
} from './cri/security-context';
export { SecurityContextError } from './cri/security-context-error';
export { formatPod, type ImageUser, verifyRunAsNonRoot } from './cri/verify-run-as-non-root';
export { DataDirSetupError, dataDirMode, setupDataDirs } from './data-dirs';
export { expandVars } from './env/expand-vars';
export {
  decodeSecretData,
  type EnvVarValue,
  expandCommand,
  type ObjectSource,
  type ResolveEnvOptions,
  resolveEnv,
} from './env/resolve-env';
export { type ServiceLink, type ServiceLister, serviceEnvVarMap } from './env/service-env';
export {
  CreateContainerConfigError,
  InvalidConfigError,
  InvalidPodSpecError,
  KubeletError,
  VolumeSetupError,
} from './errors';
export { isCriticalPod, systemCriticalPriority } from './eviction/critical-pod';
export {
  type ConfiguredThreshold,
  type EvictionSettings,
  evictionSettingsFromConfig,
  isHardThreshold,
} from './eviction/eviction-config';
export {
  type AdmitResult,
  defaultEvictionMonitoringPeriodMs,
  EvictionManager,
  type EvictionManagerOptions,
  immediateEvictionGracePeriodSeconds,
  memoryPressureTaintKey,
  type PressureSignals,
} from './eviction/eviction-manager';
export {
  evictedReason,
  evictionMessage,
  nodeConditionMessage,
  nodeLowMessage,
} from './eviction/eviction-message';
export { KubeletHousekeeping, type KubeletHousekeepingOptions } from './eviction/kubelet-housekeeping';
export { rankPodsForEviction } from './eviction/rank-pods';
export {
  type SignalObservation,
  type SignalObservations,
  signalObservations,
} from './eviction/signal-observations';
export {
  type PressureCondition,
  type StarvedResource,
  signalToNodeCondition,
  signalToResource,
} from './eviction/signal-resources';
export { ImageGCError } from './images/image-gc-errors';
export { ImageGCManager, type ImageGCManagerOptions, type ImageGCResult } from './images/image-gc-manager';
export { type ImageGCPolicy, imageGCPeriodMs, imageGCPolicyFromConfig } from './images/image-gc-policy';
export { criImageService, type ImageService, type RuntimeImage } from './images/image-service';
export { Kubelet, type KubeletLogger, type KubeletOptions } from './kubelet';
export {
  ContainerLogManager,
  type ContainerLogManagerOptions,
  type LogRotationRuntime,
} from './logs/container-log-manager';
export { type LogRotatePolicy, LogRotationConfigError, logRotatePolicy } from './logs/log-rotate-policy';
export { allContainerLogs, rotationTimestamp } from './logs/rotated-log-files';
export { collectProcessMetrics, createKubeletMetrics, type KubeletMetrics } from './metrics';
export {
  type ContainerIdentity,
  cadvisorMetricDescs,
  cadvisorMetricFamilies,
  type IdentifyContainer,
} from './metrics-collectors/cadvisor-metrics';
export { instrumentCriClient, runtimeOperationTypes } from './metrics-collectors/instrumented-cri';
export { recordProbeRun } from './metrics-collectors/prober-metrics';
export { resourceMetricFamilies } from './metrics-collectors/resource-metrics';
export {
  GenericPLEG,
  type GenericPLEGOptions,
  type PodLifecycleEvent,
  type PodLifecycleEventType,
} from './pleg/generic-pleg';
export { type CachedPodStatus, PodCache } from './pleg/pod-cache';
export {
  type ContainerToKill,
  computePodActions,
  type PodActions,
  type ProbeState,
  shouldRestart,
} from './pod/compute-pod-actions';
export { containerHash } from './pod/container-hash';
export {
  type BackOffDecision,
  type BackOffOptions,
  CrashLoopBackOff,
  containerBackOffKey,
} from './pod/crash-loop-backoff';
export { type DownwardContext, formatMap, resolveFieldPath, resolveResourceField } from './pod/field-ref';
export { podQOSClass, type QOSClass } from './pod/qos-class';
export { validatePod } from './pod/validate-pod';
export { PodProber } from './probes/pod-prober';
export { rfc3339 } from './rfc3339';
export { criPodRuntime } from './runtime/cri-pod-runtime';
export type { ExecResult, ImagePullAuth, PodRuntime, RuntimeFeatures } from './runtime/pod-runtime';
export * from './runtime/runtime-state';
export { defaultMaxParallelPodStarts, StartLimiter, type StartStep } from './runtime/start-limiter';
export {
  containerLogFile,
  followContainerLog,
  type LogOptions,
  readContainerLog,
  renderCriLog,
} from './server/container-logs';
export {
  createHealthzServer,
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from './server/kubelet-server';
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthorizationAttributes,
  type Authorizer,
  alwaysAllow,
  kubeletAuthenticator,
  subjectAccessReviewAuthorizer,
  subresourceForPath,
  type UserInfo,
  verbForMethod,
} from './server/server-auth';
export {
  parseStreamingPath,
  portForwardPorts,
  type StreamingKind,
  type StreamingTarget,
  type StreamOptions,
  streamOptions,
} from './server/streaming-routes';
export {
  type AttachStreamRequest,
  criStreamingRuntime,
  type ExecStreamRequest,
  type StreamingRuntime,
} from './server/streaming-runtime';
export { cpuAndMemoryOnly } from './server/summary-filter';
export { selfSignedCertificate } from './server/tls-material';
export {
  proxyUpgrade,
  type StreamConnector,
  StreamingProxyError,
  writeRawResponse,
} from './server/upgrade-proxy';
export {
  apiObjectSource,
  apiPodStatusWriter,
  apiTokenSource,
  mirrorPodFor,
  syncMirrorPods,
} from './sources/api-clients';
export {
  type ApiEventRecorderOptions,
  apiEventRecorder,
  type PodEventRecorder,
  type PodEventType,
} from './sources/api-event-recorder';
export { ApiPodSource, type ApiPodSourceHandlers, isMirrorPod } from './sources/api-pod-source';
export { ApiServiceLister } from './sources/api-service-lister';
export {
  isStaticPod,
  readStaticPods,
  type StaticPodFileError,
  StaticPodSource,
  type StaticPodSourceOptions,
  staticPodDefaults,
} from './sources/static-pod-source';
export * from './stats/index';
export {
  type ContainerWaitingReason,
  generatePodStatus,
  type PodStatusInputs,
  rejectedPodStatus,
} from './status/generate-pod-status';
export { isTerminalPhase, podPhase } from './status/pod-phase';
export { type PodStatusWriter, StatusManager } from './status/status-manager';
export {
  evictableRuntimeObjects,
  garbageCollectAllPods,
  garbageCollectPod,
  maxPerPodContainer,
} from './sync/container-gc';
export { effectivePullPolicy, ensureImage, imageUser } from './sync/image-puller';
export { type HookContext, resolvePort, runLifecycleHook } from './sync/lifecycle-hooks';
export {
  defaultTerminationGracePeriodSeconds,
  minimumGracePeriodSeconds,
  PodSyncer,
  type PodSyncerOptions,
  type SyncOutcome,
} from './sync/pod-syncer';
export { imageRegistry, pullCredentials } from './sync/pull-secrets';
export { SyncStepError } from './sync/sync-errors';
export {
  type FileProjection,
  type Payload,
  validatePayloadPath,
  writeAtomically,
} from './volumes/atomic-writer';
export {
  type FSGroupChangePolicy,
  fsGroupMode,
  podFSGroup,
  setVolumeOwnership,
} from './volumes/fs-group';
export { checkHostPath } from './volumes/host-path';
export { type Mounter, RecordingMounter, systemMounter } from './volumes/mounter';
export {
  PodVolumeManager,
  type PodVolumeManagerOptions,
  volumePluginDirs,
} from './volumes/pod-volume-manager';
export {
  defaultConfigMapMode,
  defaultDownwardAPIMode,
  defaultProjectedMode,
  defaultSecretMode,
  type PayloadContext,
  type TokenSource,
  volumePayload,
} from './volumes/volume-payloads';
export {
  type PodUpdate,
  type PodUpdateType,
  type PodWorkerCallbacks,
  type PodWorkerPhase,
  PodWorkers,
  type SyncPodResult,
} from './workers/pod-workers';
