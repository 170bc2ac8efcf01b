import { type Clock, parseDuration, parseQuantity } from '@nodeagent/primitives';
import type { PodAdmitHandler } from './admission/admit-handler';
import { ephemeralContainerChecks } from './admission/ephemeral-container-checks';
import { kubeletAdmitHandlers } from './admission/kubelet-admit-handlers';
import { podName } from './api/pod-name';
import { featureGateEnabled } from './config/feature-gate-rules';
import type { ContainerMemoryQoS } from './cri/container-memory-qos';
import type { NodeSwapFacts } from './cri/container-swap';
import { oomGroupKill } from './cri/linux-resources';
import { defaultMaxParallelPodStarts, StartLimiter } from './cri/start-limiter';
import { withClaimHealth } from './dra/claim-health-status';
import type { DraManager } from './dra/dra-manager';
import type { ObjectSource } from './env/resolve-env';
import { warningLoggingRecorder } from './events/warning-logging-recorder';
import { isCriticalPod } from './eviction/critical-pod';
import type { KubeletHousekeeping, KubeletHousekeepingOptions } from './eviction/kubelet-housekeeping';
import type { KubeletLogger } from './kubelet-logger';
import type { KubeletOptions } from './kubelet-options';
import type { KubeletMetrics } from './metrics';
import { crashLoopBackOffDelays, crashLoopBackOffExpiryMs } from './pod/crash-loop-back-off-delays';
import { CrashLoopBackOff } from './pod/crash-loop-backoff';
import type { PodProber } from './probes/pod-prober';
import type { StatusManager } from './status/status-manager';
import type { NodeFacts, NodeFactsReader } from './sync/node-facts';
import type { PodLifecycleOptions } from './sync/pod-lifecycle';
import type { PodResizer, PodResizerOptions } from './sync/pod-resizer';
import type { PodRuntimeView } from './sync/pod-runtime-view';
import type { PodStateStore } from './sync/pod-state-store';
import type { PodSyncer, PodSyncerOptions } from './sync/pod-syncer';
import type { PodWorkRequests } from './sync/pod-work-requests';
import type { PodVolumeManager } from './volumes/pod-volume-manager';

/**
 * Each part's options as KubeletOptions gives them (kubelet-parts.ts builds the parts in order):
 * the node, API, image and pacing groups read out into the shape each part takes.
 */

const noObjects: ObjectSource = { getConfigMap: async () => undefined, getSecret: async () => undefined };

/** The node's swap facts as containers see them, or undefined without swap. */
export function swapFacts(options: KubeletOptions): NodeSwapFacts | undefined {
  return (
    options.node.swap && {
      ...options.node.swap,
      behavior: options.config.memorySwap.swapBehavior,
      memoryCapacity: options.node.memoryCapacity,
    }
  );
}

/** Whether containers get memory.oom.group=1: the host's cgroup version and singleProcessOOMKill. */
function nodeOOMGroupKill(options: KubeletOptions): boolean {
  const cgroupVersion = options.cgroups?.fs.version ?? options.node.swap?.cgroupVersion;
  return oomGroupKill(cgroupVersion, options.config.singleProcessOOMKill);
}

/**
 * MemoryQoS's container settings when upstream would enforce it: the gate on and the host on
 * cgroup v2 (on v1 the gate changes nothing, as upstream). The allocatable memory is read at each use.
 */
export function memoryQoSSettings(
  options: KubeletOptions,
  node: NodeFactsReader,
): ContainerMemoryQoS | undefined {
  const cgroupVersion = options.cgroups?.fs.version ?? options.node.swap?.cgroupVersion;
  if (cgroupVersion !== 2 || !featureGateEnabled(options.config.featureGates, 'MemoryQoS')) return undefined;
  return {
    throttlingFactor: options.config.memoryThrottlingFactor,
    reservationPolicy: options.config.memoryReservationPolicy,
    allocatableMemory: () => {
      const memory = node.allocatable?.memory;
      return memory === undefined ? undefined : parseQuantity(memory);
    },
  };
}

/** What the runtime half of the pod sync is built over, beside the KubeletOptions. */
export interface SyncerParts {
  volumes: PodVolumeManager;
  clock: Clock;
  logger: KubeletLogger;
  metrics: KubeletMetrics;
  node: NodeFacts;
  prober: PodProber;
  /** The DRA manager: a pod's claims are prepared before its sandbox starts. */
  dra?: DraManager;
}

/** The runtime half of the pod sync, with the node facts its containers see. */
export function syncerOptions(options: KubeletOptions, parts: SyncerParts): PodSyncerOptions {
  const { logger } = parts;
  return {
    runtime: options.runtime,
    volumes: parts.volumes,
    clock: parts.clock,
    host: {
      nodeName: options.node.name,
      hostIPs: options.node.hostIPs,
      memoryCapacity: options.node.memoryCapacity,
      rootDir: options.node.rootDir,
      podLogsDir: options.config.podLogsDir,
      dns: {
        clusterDNS: options.config.clusterDNS,
        clusterDomain: options.config.clusterDomain,
        hostResolvConf: options.node.hostResolvConf,
      },
      swap: swapFacts(options),
      memoryQoS: memoryQoSSettings(options, parts.node),
      oomGroupKill: nodeOOMGroupKill(options),
      cpuCFSQuota: options.config.cpuCFSQuota,
      cpuCFSQuotaPeriodUs: parseDuration(options.config.cpuCFSQuotaPeriod) * 1000,
      seccompDefault: options.config.seccompDefault,
    },
    cluster: {
      objects: options.api?.objects ?? noObjects,
      services: options.api?.services,
      tokens: options.api?.tokens,
      runtimeHandler: options.api?.runtimeHandler,
    },
    images: {
      credentialProviders: options.images?.credentialProviders,
      imagePullManager: options.images?.pullManager,
    },
    // Read at each use: setNodeAllocatable and start() fill it in.
    node: parts.node,
    probes: options.probes?.state ?? parts.prober.probeState(),
    backOffs: {
      crashBackOff: new CrashLoopBackOff({
        ...crashLoopBackOffDelays(options.config),
        expireAfterMs: crashLoopBackOffExpiryMs,
        clock: parts.clock,
      }),
    },
    metrics: parts.metrics,
    sleep: options.pacing?.sleep,
    startLimiter: new StartLimiter(options.pacing?.maxParallelPodStarts ?? defaultMaxParallelPodStarts()),
    listeners: {
      onEvent: warningLoggingRecorder(logger, options.api?.recordEvent),
      onSwapShareError: (pod, container, error) =>
        logger.error(
          { pod: podName(pod), container: container.name, err: error.message },
          'cannot calculate swap allocation amount; disallowing swap',
        ),
    },
    userNamespaces: options.userNamespaces,
    dynamicResources: parts.dra,
    // Ephemeral containers come after admission: the same security refusals, per container.
    ephemeralContainerCheck: ephemeralContainerChecks({
      seLinuxEnabled: options.node.seLinuxEnabled,
      strictAdmission: options.node.strictAdmission,
    }),
  };
}

/** In-place pod resize: allocations, their checkpoint and the containers' CRI resources. */
export function resizerOptions(
  options: KubeletOptions,
  parts: { clock: Clock; logger: KubeletLogger; node: NodeFacts; requests: PodWorkRequests },
): PodResizerOptions {
  return {
    rootDir: options.node.rootDir,
    cgroups: options.cgroups,
    cgroupOptions: {
      cpuCFSQuota: options.config.cpuCFSQuota,
      cpuCFSQuotaPeriodUs: parseDuration(options.config.cpuCFSQuotaPeriod) * 1000,
    },
    runtime: options.runtime,
    containerResources: {
      memoryCapacity: options.node.memoryCapacity,
      swap: swapFacts(options),
      memoryQoS: memoryQoSSettings(options, parts.node),
      oomGroupKill: nodeOOMGroupKill(options),
      cpuCFSQuota: options.config.cpuCFSQuota,
      cpuCFSQuotaPeriodUs: parseDuration(options.config.cpuCFSQuotaPeriod) * 1000,
    },
    clock: parts.clock,
    recordEvent: options.api?.recordEvent,
    node: parts.node,
    pods: parts.requests,
    logger: parts.logger,
    pinning: {
      cpu:
        options.config.cpuManagerPolicy === 'static' &&
        !featureGateEnabled(options.config.featureGates, 'InPlacePodVerticalScalingExclusiveCPUs'),
      memory:
        options.config.memoryManagerPolicy === 'Static' &&
        !featureGateEnabled(options.config.featureGates, 'InPlacePodVerticalScalingExclusiveMemory'),
    },
  };
}

/** The eviction manager (container and image GC as its disk reclaim), image GC and pod cgroups. */
export function housekeepingOptions(
  options: KubeletOptions,
  parts: {
    clock: Clock;
    logger: KubeletLogger;
    metrics: KubeletMetrics;
    pods: PodStateStore;
    requests: PodWorkRequests;
  },
): KubeletHousekeepingOptions {
  const { requests, pods } = parts;
  return {
    config: options.config,
    runtime: options.runtime,
    clock: parts.clock,
    logger: parts.logger,
    stats: options.stats,
    images: options.images?.service,
    imageFs: options.images?.fs,
    imagePullManager: options.images?.pullManager,
    recordNodeEvent: options.api?.recordNodeEvent,
    cgroups: options.cgroups,
    evictionMonitoringPeriodMs: options.pacing?.evictionMonitoringPeriodMs,
    registry: parts.metrics.registry,
    activePods: () => requests.activePods(),
    knownPodUids: () => pods.uids(),
    evictPod: (pod, grace, status) => requests.evict(pod, grace, status),
  };
}

/** Upstream's admit handlers; throws InvalidConfigError for an allowedUnsafeSysctls entry that is not namespaced. */
export function admitHandlers(
  options: KubeletOptions,
  parts: { node: NodeFacts; housekeeping: Pick<KubeletHousekeeping, 'admit'> },
): PodAdmitHandler[] {
  const { node, housekeeping } = parts;
  return kubeletAdmitHandlers({
    maxPods: options.config.maxPods,
    allowedUnsafeSysctls: options.config.allowedUnsafeSysctls ?? [],
    eviction: (pod) => housekeeping.admit(pod),
    runtimeFeatures: () => node.runtimeFeatures,
    kernelRelease: options.node.kernelRelease,
    seLinuxEnabled: options.node.seLinuxEnabled,
    strictAdmission: options.node.strictAdmission,
    podCgroups: options.cgroups !== undefined,
    nodeAllocatable: () => node.allocatable,
    isCriticalPod,
    allocatesUserNamespaces: options.userNamespaces !== undefined,
    allocateResources: options.allocateResources,
    pluginResources: options.pluginResources,
    nodeShutdown: options.nodeShutdownAdmission,
    // Upstream's getNodeAnyWay: the API's Node once known, else the node as it registers.
    node: () =>
      options.api?.node?.() ?? {
        name: options.node.name,
        labels: options.node.labels ?? {},
        taints: options.node.taints ?? [],
      },
  });
}

/** What the pod workers' three syncs and the cleanup read and report to. */
export interface LifecycleParts {
  syncer: PodSyncer;
  statusManager: StatusManager;
  prober: PodProber;
  metrics: KubeletMetrics;
  clock: Clock;
  logger: KubeletLogger;
  podState: PodStateStore;
  runtimeView: PodRuntimeView;
  resizer: PodResizer;
  housekeeping: PodLifecycleOptions['stopping']['reclaimer'];
  volumes: PodVolumeManager;
  /** The DRA manager: a stopped pod's claims are unprepared; containers report their claims' health. */
  dra?: DraManager;
}

/** The pod workers, dispatching the one pod sync and the terminating and terminated ones. */
export function lifecycleOptions(options: KubeletOptions, parts: LifecycleParts): PodLifecycleOptions {
  const { clock, logger } = parts;
  const shared = {
    syncer: parts.syncer,
    statuses: parts.statusManager,
    pods: parts.podState,
    runtimeView: parts.runtimeView,
    resizer: parts.resizer,
    clock,
  };
  return {
    // The one pod sync (sync/sync-pod.ts) reads and reports through this.
    running: {
      ...shared,
      runtime: options.runtime,
      prober: parts.prober,
      metrics: parts.metrics,
      logger,
      hostIPs: options.node.hostIPs,
      probeResults: options.probes,
      runtimeType: options.runtimeType,
      retryMs: options.pacing?.retryMs,
      recordEvent: options.api?.recordEvent,
      // ResourceHealthStatus (beta, on by default in v1.36): containers' allocatedResourcesStatus.
      deviceHealth: featureGateEnabled(options.config.featureGates, 'ResourceHealthStatus')
        ? parts.dra
          ? withClaimHealth(options.deviceHealth, parts.dra, parts.podState.pod.bind(parts.podState))
          : options.deviceHealth
        : undefined,
    },
    // Stopping a pod (sync/sync-terminating-pod.ts) reads and reports through this.
    stopping: {
      ...shared,
      prober: parts.prober,
      reclaimer: parts.housekeeping,
      hostIPs: options.node.hostIPs,
      runtimeType: options.runtimeType,
      dynamicResources: parts.dra,
    },
    // What a terminated pod's cleanup removes the pod from (its worker: the lifecycle's own).
    cleanup: {
      ...shared,
      runtime: options.runtime,
      volumes: parts.volumes,
      reclaimer: parts.housekeeping,
      userNamespaces: options.userNamespaces,
      events: options.api?.podEventMemory,
      node: { podLogsDir: options.config.podLogsDir, podCgroups: options.cgroups !== undefined },
      logger,
      retryMs: options.pacing?.retryMs,
    },
    retries: {
      retryMs: options.pacing?.retryMs,
      clock,
      maxRetryMs: parseDuration(options.config.syncFrequency),
    },
    logger,
  };
}
