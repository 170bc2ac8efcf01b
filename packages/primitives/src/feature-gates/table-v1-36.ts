import type { FeatureGateSpec, FeatureStage } from './feature-gate-spec';

// The feature gates a v1.36 kubelet and kube-proxy recognise (both register every gate on
// utilfeature.DefaultMutableFeatureGate, so the two tables are the same), each resolved at
// emulation version 1.36: the last VersionedSpec whose Version is <= 1.36.
//
// Where it came from (facts carried over, no code):
// - kubernetes/kubernetes pkg/features/kube_features.go, defaultVersionedKubernetesFeatureGates,
//   in the v1.36 development state held by the source index (it carries the 1.36 entries of
//   VolumeAttributesClass; its init registers the apiextensions, genericfeatures (apiserver),
//   kcmfeatures and zpages gates listed in the same map, then client-go's);
// - the scheduler gates split out of that file on the master branch
//   (SetupCurrentKubernetesSpecificFeatureGates), for their 1.36 entries: the DRA* gates,
//   InPlacePodLevelResourcesVerticalScaling, NodeDeclaredFeatures, TopologyAwareWorkloadScheduling;
// - k8s.io/client-go/features known_features.go (versioned specs);
// - k8s.io/component-base/logs/api/v1 kube_features.go (ContextualLogging, Logging*Options),
//   which cmd/kubelet and cmd/kube-proxy add with logsapi.AddFeatureGates;
// - k8s.io/component-base/featuregate: AllAlpha and AllBeta;
// - the recorded upstream v1.36.3 node status (fidelity/pod-status-v1.36/node.upstream.yaml):
//   ExtendWebSocketsToKubelet, InPlacePodVerticalScalingInitContainers and
//   RestartAllContainersOnContainerExits are declared there with default gates, so they are on
//   by default at 1.36 (Beta: an on-by-default gate that is not GA);
// - a walkthrough of the v1.36.3 scheduler source (third-party): WorkloadAwarePreemption and
//   WorkloadWithJob, alpha since 1.36, and the workload gates' dependencies.
// Reconciled (#49) against:
// - the kubernetes/website feature-gate files (content/en/docs/reference/command-line-tools-reference/
//   feature-gates/<Gate>.md, their `stages` read at 1.36, `removed: true` for gates gone), the
//   English file with the newest stages where several versions are stored;
// - test/compatibility_lifecycle/reference/versioned_feature_list.yaml, which hack/update-featuregates.sh
//   generates from the versioned specs, in two post-1.36 trees of kubernetes/kubernetes forks
//   (master with 1.37 entries; resolved at 1.36). Where the docs' stored files stop before 1.36
//   (ImageVolume, ProcMountType, SELinuxChangePolicy, ...) or leave out `locked`
//   (KubeletFineGrainedAuthz, SELinuxMountReadWriteOncePod, TopologyManagerPolicyOptions), the
//   generated list decides, being what the binary registers.
// That moved 34 gates to their 1.36 stage (KubeletPSI, UserNamespacesSupport, ImageVolume, ... GA
// and locked; CustomCPUCFSQuotaPeriod GA on; MaxUnavailableStatefulSet back to off, as 1.35.4;
// DisableCPUQuotaWithExclusiveCPUs deprecated; InOrderInformers GA locked, from the client-go docs),
// fixed one name (RuntimeClassInImageCriApi, the gate's string), removed MemoryManager and
// InTreePluginPortworxUnregister (docs: last stage 1.35, removed) with MemoryManager's two
// dependency edges, and added 15 gates new in 1.36 whose docs file exists. The new gates'
// dependencies are not known.
// - the v1.36 kube-scheduler reference page (kubernetes/website, generated from the binary: its
//   --feature-gates help lists every ALPHA and BETA gate of the kube gate set with its default,
//   the set the kubelet and kube-proxy register too): its 150 gates all match this table's
//   ALPHA/BETA rows, and the 8 it named that the table lacked were added (PLEGOnDemandRelist,
//   ReloadKubeletClientCAFile, ResourceHealthStatusMessage, NativeHistograms, and client-go's
//   AtomicFIFO, ClientsAllowCARotation, ClientsAllowTLSCacheGC, UnlockWhileProcessingFIFO).
//   ServiceCIDRStatusFieldWiping is not on that page and is not added.

const A: FeatureStage = 'ALPHA';
const B: FeatureStage = 'BETA';
const GA: FeatureStage = 'GA';
const DEP: FeatureStage = 'DEPRECATED';

type Row = readonly [name: string, defaultValue: boolean, stage: FeatureStage, locked?: 'locked'];

const ROWS: readonly Row[] = [
  // component-base/featuregate
  ['AllAlpha', false, A],
  ['AllBeta', false, B],
  // pkg/features
  ['AllowDNSOnlyNodeCSR', false, DEP],
  ['AllowInsecureKubeletCertificateSigningRequests', false, DEP],
  ['AllowOverwriteTerminationGracePeriodSeconds', false, DEP, 'locked'],
  // GA since 1.0 in the code; the docs file calls it deprecated from 1.36 (kube-proxy reads it).
  ['AllowServiceExternalIPs', true, GA],
  ['AnyVolumeDataSource', true, GA, 'locked'],
  ['AuthorizeNodeWithSelectors', true, GA, 'locked'],
  ['AuthorizePodWebsocketUpgradeCreatePermission', true, B],
  ['CPUManagerPolicyAlphaOptions', false, A],
  ['CPUManagerPolicyBetaOptions', true, B],
  ['CPUManagerPolicyOptions', true, GA, 'locked'],
  ['CRIListStreaming', false, A],
  ['CSIMigrationPortworx', true, GA, 'locked'],
  ['CSIServiceAccountTokenSecrets', true, GA, 'locked'],
  ['CSIVolumeHealth', false, A],
  ['ChangeContainerStatusOnKubeletRestart', false, DEP],
  ['ClearingNominatedNodeNameAfterBinding', true, B],
  ['ClusterTrustBundle', false, B],
  ['ClusterTrustBundleProjection', false, B],
  ['ContainerCheckpoint', true, B],
  ['ContainerRestartRules', true, B],
  ['ContainerStopSignals', false, A],
  ['CrossNamespaceVolumeDataSource', false, A],
  ['CustomCPUCFSQuotaPeriod', true, GA],
  ['DRAAdminAccess', true, GA, 'locked'],
  ['DRAConsumableCapacity', true, B],
  ['DRADeviceBindingConditions', true, B],
  ['DRADeviceTaintRules', false, B],
  ['DRADeviceTaints', true, B],
  ['DRAExtendedResource', true, B],
  ['DRAListTypeAttributes', false, A],
  ['DRANodeAllocatableResources', false, A],
  ['DRAPartitionableDevices', true, B],
  ['DRAPrioritizedList', true, GA],
  ['DRAResourceClaimDeviceStatus', true, B],
  ['DRAResourceClaimGranularStatusAuthorization', true, B],
  ['DRAResourcePoolStatus', false, A],
  ['DRASchedulerFilterTimeout', true, B],
  ['DRAWorkloadResourceClaims', false, A],
  ['DeploymentReplicaSetTerminatingReplicas', true, B],
  ['DisableAllocatorDualWrite', true, GA, 'locked'],
  ['DisableCPUQuotaWithExclusiveCPUs', true, DEP],
  ['DisableNodeKubeProxyVersion', true, DEP, 'locked'],
  ['DynamicResourceAllocation', true, GA, 'locked'],
  ['EnvFiles', true, B],
  ['EventedPLEG', false, A],
  ['ExecProbeTimeout', true, GA, 'locked'],
  ['ExtendWebSocketsToKubelet', true, B],
  ['ExternalServiceAccountTokenSigner', true, GA, 'locked'],
  ['GangScheduling', false, A],
  ['GenericWorkload', false, A],
  ['GitRepoVolumeDriver', false, DEP, 'locked'],
  ['GracefulNodeShutdown', true, B],
  ['GracefulNodeShutdownBasedOnPodPriority', true, B],
  ['HPAConfigurableTolerance', true, B],
  ['HPAScaleToZero', false, A],
  ['HonorPVReclaimPolicy', true, GA, 'locked'],
  ['HostnameOverride', true, B],
  ['ImageMaximumGCAge', true, GA, 'locked'],
  ['ImageVolume', true, GA, 'locked'],
  ['ImageVolumeWithDigest', false, A],
  ['InPlacePodLevelResourcesVerticalScaling', true, B],
  ['InPlacePodVerticalScaling', true, GA, 'locked'],
  ['InPlacePodVerticalScalingAllocatedStatus', false, DEP],
  ['InPlacePodVerticalScalingExclusiveCPUs', false, A],
  ['InPlacePodVerticalScalingExclusiveMemory', false, A],
  ['InPlacePodVerticalScalingInitContainers', true, B],
  ['JobBackoffLimitPerIndex', true, GA, 'locked'],
  ['JobManagedBy', true, GA, 'locked'],
  ['JobPodReplacementPolicy', true, GA, 'locked'],
  ['JobSuccessPolicy', true, GA, 'locked'],
  ['KubeletCgroupDriverFromCRI', true, GA, 'locked'],
  ['KubeletCrashLoopBackOffMax', true, B],
  ['KubeletEnsureSecretPulledImages', true, B],
  ['KubeletFineGrainedAuthz', true, GA, 'locked'],
  ['KubeletInUserNamespace', false, A],
  ['KubeletPSI', true, GA, 'locked'],
  ['KubeletPodResourcesDynamicResources', true, GA, 'locked'],
  ['KubeletPodResourcesGet', true, GA, 'locked'],
  ['KubeletPodResourcesListUseActivePods', true, DEP],
  ['KubeletRegistrationGetOnExistsOnly', false, DEP],
  ['KubeletSeparateDiskGC', true, B],
  ['KubeletServiceAccountTokenForCredentialProviders', true, B],
  ['KubeletTracing', true, GA, 'locked'],
  ['LocalStorageCapacityIsolationFSQuotaMonitoring', false, B],
  ['LogarithmicScaleDown', true, GA, 'locked'],
  ['MatchLabelKeysInPodAffinity', true, GA, 'locked'],
  ['MatchLabelKeysInPodTopologySpread', true, B],
  ['MatchLabelKeysInPodTopologySpreadSelectorMerge', true, B],
  ['MaxUnavailableStatefulSet', false, B],
  ['MemoryQoS', false, A],
  ['MultiCIDRServiceAllocator', true, GA, 'locked'],
  ['MutableCSINodeAllocatableCount', true, GA, 'locked'],
  ['MutablePVNodeAffinity', false, A],
  ['MutablePodResourcesForSuspendedJobs', true, B],
  ['MutableSchedulingDirectivesForSuspendedJobs', true, B],
  ['NFTablesProxyMode', true, GA, 'locked'],
  ['NodeDeclaredFeatures', true, B],
  ['NodeInclusionPolicyInPodTopologySpread', true, GA, 'locked'],
  // GA and locked on in v1.36 (kubernetes/kubernetes#137544, merged in the 1.36 cycle).
  ['NodeLogQuery', true, GA, 'locked'],
  ['NodeSwap', true, GA, 'locked'],
  ['NominatedNodeNameForExpectation', true, B],
  ['OpportunisticBatching', true, B],
  ['OrderedNamespaceDeletion', true, GA, 'locked'],
  ['PersistentVolumeClaimUnusedSinceTime', false, A],
  ['PLEGOnDemandRelist', true, B],
  ['PodAndContainerStatsFromCRI', false, A],
  ['PodCertificateRequest', false, B],
  ['PodDeletionCost', true, B],
  ['PodLevelResourceManagers', false, A],
  ['PodLevelResources', true, B],
  ['PodLifecycleSleepAction', true, GA, 'locked'],
  ['PodLifecycleSleepActionAllowZero', true, GA, 'locked'],
  ['PodLogsQuerySplitStreams', false, A],
  ['PodObservedGenerationTracking', true, GA, 'locked'],
  ['PodReadyToStartContainersCondition', true, B],
  ['PodSchedulingReadiness', true, GA, 'locked'],
  ['PodTopologyLabelsAdmission', true, B],
  ['PodsAPI', false, A],
  ['PortForwardWebsockets', true, B],
  ['PreferSameTrafficDistribution', true, GA, 'locked'],
  ['PreventStaticPodAPIReferences', true, B],
  ['ProcMountType', true, GA, 'locked'],
  ['QOSReserved', false, A],
  ['RecoverVolumeExpansionFailure', true, GA, 'locked'],
  ['RecursiveReadOnlyMounts', true, GA, 'locked'],
  ['ReduceDefaultCrashLoopBackOffDecay', false, A],
  ['RelaxedDNSSearchValidation', true, GA, 'locked'],
  ['RelaxedEnvironmentVariableValidation', true, GA, 'locked'],
  ['RelaxedServiceNameValidation', true, B],
  ['ReloadKubeletClientCAFile', true, B],
  ['ReloadKubeletServerCertificateFile', true, B],
  ['ResourceHealthStatus', true, B],
  ['ResourceHealthStatusMessage', true, B],
  ['RestartAllContainersOnContainerExits', true, B],
  ['RotateKubeletServerCertificate', true, B],
  ['RuntimeClassInImageCriApi', false, A],
  ['SELinuxChangePolicy', true, GA, 'locked'],
  ['SELinuxMount', false, B],
  ['SELinuxMountReadWriteOncePod', true, GA, 'locked'],
  ['SchedulerAsyncAPICalls', false, B],
  ['SchedulerAsyncPreemption', true, B],
  ['SchedulerPopFromBackoffQ', true, B],
  ['SchedulerQueueingHints', true, GA, 'locked'],
  ['SeparateTaintEvictionController', true, GA, 'locked'],
  ['ServiceAccountNodeAudienceRestriction', true, B],
  ['ServiceAccountTokenJTI', true, GA, 'locked'],
  ['ServiceAccountTokenNodeBinding', true, GA, 'locked'],
  ['ServiceAccountTokenNodeBindingValidation', true, GA, 'locked'],
  ['ServiceAccountTokenPodNodeInfo', true, GA, 'locked'],
  // The docs mark it removed after 1.35 (gone at 1.36); kept until kube-proxy's test that sets it
  // is moved (reported on #49).
  ['ServiceTrafficDistribution', true, GA, 'locked'],
  ['SidecarContainers', true, GA, 'locked'],
  ['StaleControllerConsistencyDaemonSet', true, B],
  ['StaleControllerConsistencyJob', true, B],
  ['StaleControllerConsistencyReplicaSet', true, B],
  ['StaleControllerConsistencyStatefulSet', true, B],
  ['StatefulSetSemanticRevisionComparison', true, B],
  ['StorageCapacityScoring', false, A],
  ['StorageNamespaceIndex', true, DEP],
  ['StorageVersionMigrator', false, B],
  ['StreamingCollectionEncodingToJSON', true, GA, 'locked'],
  ['StreamingCollectionEncodingToProtobuf', true, GA, 'locked'],
  ['StrictIPCIDRValidation', true, B],
  ['SupplementalGroupsPolicy', true, GA, 'locked'],
  ['SystemdWatchdog', true, GA, 'locked'],
  ['TaintTolerationComparisonOperators', false, A],
  ['TopologyAwareHints', true, GA, 'locked'],
  ['TopologyAwareWorkloadScheduling', false, A],
  ['TopologyManagerPolicyAlphaOptions', false, A],
  ['TopologyManagerPolicyBetaOptions', true, B],
  ['TopologyManagerPolicyOptions', true, GA, 'locked'],
  ['TranslateStreamCloseWebsocketRequests', true, B],
  ['UserNamespacesHostNetworkSupport', false, A],
  ['UserNamespacesSupport', true, GA, 'locked'],
  ['VolumeAttributesClass', true, GA, 'locked'],
  ['VolumeLimitScaling', false, A],
  ['WinDSR', true, GA, 'locked'],
  ['WinOverlay', true, GA, 'locked'],
  ['WindowsCPUAndMemoryAffinity', false, A],
  ['WindowsGracefulNodeShutdown', true, B],
  ['WindowsHostNetwork', false, DEP],
  ['WorkloadAwarePreemption', false, A],
  ['WorkloadWithJob', false, A],
  // k8s.io/apiextensions-apiserver/pkg/features
  ['CRDObservedGenerationTracking', true, B],
  ['CRDValidationRatcheting', true, GA, 'locked'],
  ['CustomResourceFieldSelectors', true, GA, 'locked'],
  // k8s.io/apiserver/pkg/features
  ['APIResponseCompression', true, B],
  ['APIServerIdentity', true, B],
  ['APIServerTracing', true, GA, 'locked'],
  ['APIServingWithRoutine', false, A],
  ['AggregatedDiscoveryRemoveBetaType', true, DEP, 'locked'],
  ['AllowParsingUserUIDFromCertAuth', true, B],
  ['AllowUnsafeMalformedObjectDeletion', false, A],
  ['AnonymousAuthConfigurableEndpoints', true, GA, 'locked'],
  ['AuthorizeWithSelectors', true, GA, 'locked'],
  ['BtreeWatchCache', true, GA, 'locked'],
  ['CBORServingAndStorage', false, A],
  ['ConcurrentWatchObjectDecode', false, B],
  ['ConsistentListFromCache', true, GA, 'locked'],
  ['ConstrainedImpersonation', true, B],
  ['CoordinatedLeaderElection', false, B],
  ['DeclarativeValidation', true, GA, 'locked'],
  ['DeclarativeValidationBeta', true, B],
  ['DeclarativeValidationTakeover', false, DEP],
  ['DetectCacheInconsistency', true, B],
  ['KMSv1', false, DEP],
  ['ListFromCacheSnapshot', true, B],
  ['ManifestBasedAdmissionControlConfig', false, A],
  ['MutatingAdmissionPolicy', true, GA],
  ['OpenAPIEnums', true, B],
  ['RemoteRequestHeaderUID', true, B],
  ['ResilientWatchCacheInitialization', true, GA, 'locked'],
  ['RetryGenerateName', true, GA, 'locked'],
  ['SeparateCacheWatchRPC', false, DEP, 'locked'],
  ['ShardedListAndWatch', false, A],
  ['SizeBasedListCostEstimate', true, B],
  ['StorageVersionAPI', false, A],
  ['StorageVersionHash', true, B],
  ['StructuredAuthenticationConfiguration', true, GA, 'locked'],
  ['StructuredAuthenticationConfigurationEgressSelector', true, B],
  ['StructuredAuthenticationConfigurationJWKSMetrics', true, B],
  ['StructuredAuthorizationConfiguration', true, GA, 'locked'],
  ['TokenRequestServiceAccountUIDValidation', true, B],
  ['UnauthenticatedHTTP2DOSMitigation', true, B],
  ['UnknownVersionInteroperabilityProxy', true, B],
  ['WatchCacheInitializationPostStartHook', true, B],
  ['WatchFromStorageWithoutResourceVersion', false, DEP, 'locked'],
  ['WatchList', true, B],
  // k8s.io/controller-manager/pkg/features
  ['CloudControllerManagerWatchBasedRoutesReconciliation', false, A],
  ['CloudControllerManagerWebhook', false, A],
  ['ControllerManagerReleaseLeaderElectionLockOnExit', false, A],
  // k8s.io/component-base/zpages/features
  ['ComponentFlagz', true, B],
  ['ComponentStatusz', true, B],
  // k8s.io/component-base/metrics/features
  ['NativeHistograms', false, A],
  // k8s.io/client-go/features
  ['AtomicFIFO', true, B],
  ['ClientsAllowCARotation', true, B],
  ['ClientsAllowCBOR', false, A],
  ['ClientsAllowTLSCacheGC', true, B],
  ['ClientsPreferCBOR', false, A],
  ['InOrderInformers', true, GA, 'locked'],
  ['InOrderInformersBatchProcess', true, B],
  ['InformerResourceVersion', true, GA],
  ['UnlockWhileProcessingFIFO', true, B],
  ['WatchListClient', true, B],
  // k8s.io/component-base/logs/api/v1
  ['ContextualLogging', true, B],
  ['LoggingAlphaOptions', false, A],
  ['LoggingBetaOptions', true, B],
];

// defaultKubernetesFeatureGateDependencies of the same kube_features.go (the gates with none left out).
const DRA = 'DynamicResourceAllocation';
const DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  AuthorizeNodeWithSelectors: ['AuthorizeWithSelectors'],
  ClusterTrustBundleProjection: ['ClusterTrustBundle'],
  DRAAdminAccess: [DRA],
  DRAConsumableCapacity: [DRA],
  DRADeviceBindingConditions: [DRA, 'DRAResourceClaimDeviceStatus'],
  DRADeviceTaintRules: ['DRADeviceTaints'],
  DRADeviceTaints: [DRA],
  DRAExtendedResource: [DRA],
  DRAPartitionableDevices: [DRA],
  DRAPrioritizedList: [DRA],
  DRASchedulerFilterTimeout: [DRA],
  DeclarativeValidationTakeover: ['DeclarativeValidation'],
  DisableAllocatorDualWrite: ['MultiCIDRServiceAllocator'],
  GangScheduling: ['GenericWorkload'],
  GracefulNodeShutdownBasedOnPodPriority: ['GracefulNodeShutdown'],
  ImageVolumeWithDigest: ['ImageVolume'],
  InPlacePodLevelResourcesVerticalScaling: [
    'InPlacePodVerticalScaling',
    'PodLevelResources',
    'NodeDeclaredFeatures',
  ],
  InPlacePodVerticalScalingAllocatedStatus: ['InPlacePodVerticalScaling'],
  InPlacePodVerticalScalingExclusiveCPUs: ['InPlacePodVerticalScaling'],
  InPlacePodVerticalScalingExclusiveMemory: ['InPlacePodVerticalScaling'],
  MatchLabelKeysInPodTopologySpreadSelectorMerge: ['MatchLabelKeysInPodTopologySpread'],
  PodCertificateRequest: ['AuthorizeNodeWithSelectors'],
  PodLifecycleSleepActionAllowZero: ['PodLifecycleSleepAction'],
  ProcMountType: ['UserNamespacesSupport'],
  ResourceHealthStatus: [DRA],
  RestartAllContainersOnContainerExits: ['ContainerRestartRules', 'NodeDeclaredFeatures'],
  ServiceAccountTokenNodeBinding: ['ServiceAccountTokenNodeBindingValidation'],
  StorageVersionAPI: ['APIServerIdentity'],
  StructuredAuthenticationConfigurationEgressSelector: ['StructuredAuthenticationConfiguration'],
  StructuredAuthenticationConfigurationJWKSMetrics: ['StructuredAuthenticationConfiguration'],
  UnknownVersionInteroperabilityProxy: ['APIServerIdentity'],
  UserNamespacesHostNetworkSupport: ['UserNamespacesSupport'],
  WindowsGracefulNodeShutdown: ['GracefulNodeShutdown'],
  TopologyAwareWorkloadScheduling: ['GenericWorkload'],
  WorkloadAwarePreemption: ['GangScheduling'],
  WorkloadWithJob: ['GenericWorkload'],
};

/** Every feature gate of a v1.36 kubelet and kube-proxy, by name, as it stands at 1.36. */
export const FEATURE_GATES_V1_36: ReadonlyMap<string, FeatureGateSpec> = new Map(
  ROWS.map(([name, defaultValue, stage, locked]) => [
    name,
    {
      name,
      default: defaultValue,
      stage,
      lockToDefault: locked === 'locked',
      dependsOn: DEPENDENCIES[name] ?? [],
    },
  ]),
);
