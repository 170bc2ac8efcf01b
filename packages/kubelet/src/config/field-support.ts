import { isDeepStrictEqual } from 'node:util';
import { contentTypeIsProtobuf } from './content-type';
import { defaultKubeletConfiguration, type KubeletConfiguration } from './kubelet-configuration';

/**
 * What this kubelet does with each top-level KubeletConfiguration field, so none is silently
 * ignored: a field is applied (read where upstream reads it), owned by the TLS bootstrap work,
 * a no-op upstream too, or unsupported — and then named in one warning at start whenever its
 * value asks for behaviour this kubelet does not have.
 */
export type FieldSupport =
  | { status: 'applied'; where: string }
  | { status: 'tls-bootstrap'; where: string }
  | { status: 'no-effect-upstream'; where: string }
  | {
      status: 'unsupported';
      /**
       * Whether the value asks for nothing this kubelet lacks. Default: equal to upstream's
       * default. `false` for fields whose default already means behaviour that is missing.
       */
      inert?: ((value: unknown) => boolean) | false;
    };

const applied = (where: string): FieldSupport => ({ status: 'applied', where });
const unsupported: FieldSupport = { status: 'unsupported' };

/**
 * For every KubeletConfiguration field, whether and where this kubelet applies it; a field left `unsupported` is
 * named by unsupportedFieldWarnings when its value asks for missing behaviour.
 */
export const kubeletConfigurationFieldSupport: Readonly<Record<keyof KubeletConfiguration, FieldSupport>> = {
  apiVersion: applied('config file decoding'),
  kind: applied('config file decoding'),
  enableServer: applied('kubelet server on port'),
  staticPodPath: applied('static pod source'),
  podLogsDir: applied('container log paths'),
  syncFrequency: applied('pod resync'),
  fileCheckFrequency: applied('static pod source'),
  httpCheckFrequency: applied('static pod URL source'),
  staticPodURL: applied('static pod URL source'),
  staticPodURLHeader: applied('static pod URL source'),
  address: applied('kubelet server'),
  port: applied('kubelet server'),
  readOnlyPort: applied('read-only kubelet server (plain HTTP, no auth)'),
  tlsCertFile: applied('kubelet server TLS'),
  tlsPrivateKeyFile: applied('kubelet server TLS'),
  tlsCipherSuites: applied('kubelet server TLS (server/serving-tls-settings.ts)'),
  // v1.36 offers these groups on the kubelet server; this kubelet's server keeps Node's defaults.
  tlsCurvePreferences: applied('kubelet server TLS (server/serving-tls-settings.ts)'),
  tlsMinVersion: applied('kubelet server TLS (server/serving-tls-settings.ts)'),
  rotateCertificates: { status: 'tls-bootstrap', where: 'client certificate rotation' },
  serverTLSBootstrap: { status: 'tls-bootstrap', where: 'serving certificate CSR' },
  authentication: applied('kubelet server authentication (x509, TokenReview webhook, anonymous)'),
  authorization: applied('kubelet server authorization (AlwaysAllow, SubjectAccessReview webhook)'),
  registryPullQPS: applied('image pulls (images/image-pull-throttle.ts)'),
  registryBurst: applied('image pulls (images/image-pull-throttle.ts)'),
  imagePullCredentialsVerificationPolicy: applied(
    'verified image pulls (records under <root-dir>/image_manager)',
  ),
  preloadedImagesVerificationAllowlist: applied('verified image pulls (NeverVerifyAllowlistedImages)'),
  eventRecordQPS: applied('event recorder write rate'),
  eventBurst: applied('event recorder write burst'),
  enableDebuggingHandlers: applied(
    'kubelet server: debugging handlers, or 405 "Debug endpoints are disabled." when off',
  ),
  enableContentionProfiling: unsupported,
  healthzPort: applied('healthz server'),
  healthzBindAddress: applied('healthz server'),
  oomScoreAdj: applied("the kubelet process's /proc/self/oom_score_adj"),
  clusterDomain: applied('pod DNS'),
  clusterDNS: applied('pod DNS'),
  streamingConnectionIdleTimeout: { status: 'no-effect-upstream', where: 'deprecated upstream: no effect' },
  nodeStatusUpdateFrequency: applied('node status'),
  nodeStatusReportFrequency: applied('node status'),
  nodeLeaseDurationSeconds: applied('node lease'),
  imageMinimumGCAge: applied('image GC'),
  imageMaximumGCAge: applied('image GC'),
  imageGCHighThresholdPercent: applied('image GC'),
  imageGCLowThresholdPercent: applied('image GC'),
  volumeStatsAggPeriod: applied(
    'pod volume usage measured in the background every period and read from that cache (stats/pod-volume-stats-cache.ts); 0 or less: no volume stats',
  ),
  kubeletCgroups: applied(
    "the kubelet's process moved into it (created if missing) with its oom_score_adj, at start and every minute (cgroups/system-containers.ts)",
  ),
  systemCgroups: applied(
    "the root cgroup's non-kernel processes but pid 1 moved into it, at start and every minute (cgroups/system-containers.ts)",
  ),
  cgroupRoot: applied('pod cgroups'),
  cgroupsPerQOS: applied('pod cgroups'),
  cgroupDriver: applied("pod cgroups, unless the runtime's RuntimeConfig names its own"),
  cpuManagerPolicy: applied(
    'CPU manager (cpumanager/): none, or static (exclusive CPUs for Guaranteed containers with whole CPUs, the shared pool for the rest, as CreateContainer cpuset_cpus); <root-dir>/cpu_manager_state',
  ),
  singleProcessOOMKill: applied('memory.oom.group of containers on cgroup v2; refused false on cgroup v1'),
  cpuManagerPolicyOptions: applied(
    "static policy: full-pcpus-only; upstream's refusals for unknown or ungated options; other options upstream accepts are named in a warning at start",
  ),
  cpuManagerReconcilePeriod: applied(
    'CPU manager reconcile loop (static policy: CRI UpdateContainerResources cpuset_cpus)',
  ),
  memoryManagerPolicy: applied(
    'memory manager (memorymanager/): None, or Static (Guaranteed containers pinned to NUMA nodes, as CreateContainer cpuset_mems, a topology manager hint provider); <root-dir>/memory_manager_state',
  ),
  topologyManagerPolicy: applied(
    'topology manager admission (topologymanager/, CPU, device and memory manager hints)',
  ),
  topologyManagerScope: applied('topology manager admission: hints per container or per pod'),
  topologyManagerPolicyOptions: applied(
    'topology manager: prefer-closest-numa-nodes, max-allowable-numa-nodes',
  ),
  qosReserved: applied(
    "parsed at start (memory only, 0-100%); with the alpha QOSReserved gate, the burstable and besteffort QoS cgroups' memory limits (allocatable less that share of the higher classes' memory requests); without it nothing more, as upstream",
  ),
  runtimeRequestTimeout: applied('CRI call deadline'),
  // v1.36 only validates it: hairpin setup left with dockershim (v1.24), CNI plugins do it now.
  hairpinMode: {
    status: 'no-effect-upstream',
    where: 'validated only (promiscuous-bridge, hairpin-veth, none); no hairpin setup in v1.36',
  },
  maxPods: applied('pod admission and Node capacity'),
  podCIDR: applied(
    "the runtime's pod CIDR through CRI UpdateRuntimeConfig when the kubelet is built; with an API server the Node's spec.podCIDRs take over (sync/runtime-pod-cidr.ts)",
  ),
  podPidsLimit: applied('pod cgroups'),
  resolvConf: applied('pod DNS'),
  runOnce: applied('refused by validation, as upstream'),
  cpuCFSQuota: applied('container and pod CPU limits'),
  cpuCFSQuotaPeriod: applied('container and pod CPU limits'),
  nodeStatusMaxImages: applied('Node status images'),
  maxOpenFiles: applied(
    "the kubelet process's RLIMIT_NOFILE, soft and hard, before the kubelet starts; a failure logged (cgroups/open-files-limit.ts)",
  ),
  // Honoured where it matters: protobuf (the default) or JSON for the Service list and watch,
  // the kubelet's one cluster-sized read (sources/api-service-lister.ts); Pods, the Node and
  // request bodies go as JSON either way, which changes no behaviour. Any other media type,
  // which upstream's client would send as its Accept header, is not supported.
  contentType: {
    status: 'unsupported',
    inert: (value) => value === 'application/json' || contentTypeIsProtobuf(value as string),
  },
  kubeAPIQPS: applied('main API client token bucket (kubelet-api-clients.ts)'),
  kubeAPIBurst: applied('main API client token bucket (kubelet-api-clients.ts)'),
  serializeImagePulls: applied('image pull concurrency'),
  maxParallelImagePulls: applied('image pull concurrency'),
  evictionHard: applied('eviction manager and Node allocatable'),
  evictionSoft: applied('eviction manager'),
  evictionSoftGracePeriod: applied('eviction manager'),
  evictionPressureTransitionPeriod: applied('eviction manager'),
  evictionMaxPodGracePeriod: applied('eviction manager'),
  evictionMinimumReclaim: applied('eviction manager'),
  mergeDefaultEvictionSettings: applied('configuration defaulting (evictionHard)'),
  podsPerCore: applied('pod admission and Node capacity'),
  enableControllerAttachDetach: unsupported,
  protectKernelDefaults: applied('kernel tunables set, or only checked, at start (kernel-tunables.ts)'),
  makeIPTablesUtilChains: applied(
    'iptables chains at start: KUBE-IPTABLES-HINT, IPv4 KUBE-FIREWALL, canary re-creation (network/init-network-util.ts)',
  ),
  iptablesMasqueradeBit: { status: 'no-effect-upstream', where: 'deprecated upstream: no effect' },
  iptablesDropBit: { status: 'no-effect-upstream', where: 'deprecated upstream: no effect' },
  featureGates: applied(
    'checked against the v1.36 gate table (unknown or locked gates refused); ContainerCheckpoint, KubeletEnsureSecretPulledImages, KubeletServiceAccountTokenForCredentialProviders, NodeDeclaredFeatures and the declared-feature gates are read; any other gate set away from its default is named in a warning',
  ),
  failSwapOn: applied('start refused while swap is on'),
  memorySwap: applied('container swap limits (NoSwap / LimitedSwap by cgroup version and swap controller)'),
  containerLogMaxSize: applied('container log rotation (CRI ReopenContainerLog)'),
  containerLogMaxFiles: applied('container log rotation (CRI ReopenContainerLog)'),
  containerLogMaxWorkers: applied('container log rotation (CRI ReopenContainerLog)'),
  containerLogMonitorInterval: applied('container log rotation (CRI ReopenContainerLog)'),
  configMapAndSecretChangeDetectionStrategy: applied(
    'ConfigMaps and Secrets of volumes, env and image pull secrets: Watch, Cache or Get (objects/pod-object-manager.ts)',
  ),
  systemReserved: applied('Node allocatable'),
  kubeReserved: applied('Node allocatable'),
  reservedSystemCPUs: applied(
    'static policy reserved CPUs; overrides kubeReserved/systemReserved cpu for Node allocatable, as upstream',
  ),
  showHiddenMetricsForVersion: unsupported,
  systemReservedCgroup: applied('the existing cgroup limited to systemReserved ("system-reserved" levels)'),
  kubeReservedCgroup: applied('the existing cgroup limited to kubeReserved ("kube-reserved" levels)'),
  enforceNodeAllocatable: applied(
    'the kubepods cgroup capped at capacity − reserved ("pods"); systemReservedCgroup and kubeReservedCgroup limited to their reservations (the "-compressible" levels: CPU only), a missing one fatal at start',
  ),
  allowedUnsafeSysctls: applied('pod admission (unsafe sysctls)'),
  volumePluginDir: applied(
    'FlexVolume drivers (volumes/flex/): probed when a flexVolume looks for its driver; drivers that do not attach run mount and unmount; attaching drivers are refused by name',
  ),
  providerID: applied('Node spec.providerID'),
  kernelMemcgNotification: unsupported,
  logging: applied('log format (text/json) and verbosity'),
  enableSystemLogHandler: applied(
    'kubelet server /logs/ (the files under /var/log/; false: 405 "logs endpoint is disabled.")',
  ),
  enableSystemLogQuery: applied('kubelet server /logs/?query= (journalctl and the files under /var/log/)'),
  shutdownGracePeriod: applied('graceful node shutdown (logind inhibitor)'),
  shutdownGracePeriodCriticalPods: applied('graceful node shutdown (logind inhibitor)'),
  shutdownGracePeriodByPodPriority: applied('graceful node shutdown (logind inhibitor)'),
  crashLoopBackOff: applied(
    'container restart back-off cap (KubeletCrashLoopBackOffMax; ReduceDefaultCrashLoopBackOffDecay read too)',
  ),
  reservedMemory: applied(
    "memory manager Static policy: each NUMA node's system reservation, whose sum must equal Node allocatable's memory reservation",
  ),
  enableProfilingHandler: applied(
    'kubelet server /debug/pprof/ (false: 405, as upstream; true: 501, no Go profiles in Node)',
  ),
  enableDebugFlagsHandler: applied('kubelet server /debug/flags/v (false: 405, as upstream)'),
  seccompDefault: applied('container seccomp profile'),
  memoryThrottlingFactor: applied('container memory.high with the MemoryQoS gate on cgroup v2'),
  memoryReservationPolicy: applied(
    'memory.min / memory.low of containers, pods and QoS cgroups with the MemoryQoS gate on cgroup v2',
  ),
  registerWithTaints: applied('node registration'),
  registerNode: applied('node registration'),
  tracing: unsupported,
  localStorageCapacityIsolation: applied(
    'Node ephemeral-storage capacity and allocatable (so admission), eviction over emptyDir sizeLimit and ephemeral-storage limits',
  ),
  containerRuntimeEndpoint: applied('CRI runtime service'),
  imageServiceEndpoint: applied('CRI image service'),
  failCgroupV1: applied('start refused on cgroup v1'),
  userNamespaces: applied('hostUsers: false ID ranges (idsPerPod blocks of the kubelet range)'),
};

/** One unsupported field whose configured value this kubelet cannot honour, with the message to log. */
export interface UnsupportedFieldWarning {
  /** The KubeletConfiguration field, e.g. `cpuManagerPolicy`. */
  field: keyof KubeletConfiguration;
  /** The configured value. */
  value: unknown;
  /** A sentence naming the field and what is missing. */
  message: string;
}

/**
 * One warning per unsupported field whose value asks for something this kubelet does not do,
 * for the binary to log at start.
 */
export function unsupportedFieldWarnings(config: KubeletConfiguration): UnsupportedFieldWarning[] {
  const defaults = defaultKubeletConfiguration();
  const warnings: UnsupportedFieldWarning[] = [];
  for (const [field, support] of Object.entries(kubeletConfigurationFieldSupport) as [
    keyof KubeletConfiguration,
    FieldSupport,
  ][]) {
    if (support.status !== 'unsupported') continue;
    const value = config[field];
    const inert =
      support.inert === false
        ? false
        : support.inert
          ? support.inert(value)
          : isDeepStrictEqual(value, defaults[field]);
    if (inert) continue;
    warnings.push({
      field,
      value,
      message: `KubeletConfiguration field ${field} is not supported by this kubelet and has no effect`,
    });
  }
  return warnings;
}
