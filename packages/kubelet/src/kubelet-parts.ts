import { type Clock, parseDuration, systemClock } from '@nodeagent/primitives';
import { podName } from './api/pod-name';
import { featureGateEnabled } from './config/feature-gate-rules';
import type { PodRuntime } from './cri/pod-runtime';
import { withContainerClaims } from './dra/dra-container-runtime';
import { DraManager, type ResourceClaimApi } from './dra/dra-manager';
import { grpcDraConnector } from './dra/grpc-dra-connection';
import { KubeletHousekeeping } from './eviction/kubelet-housekeeping';
import type { KubeletLogger } from './kubelet-logger';
import type { KubeletOptions } from './kubelet-options';
import {
  admitHandlers,
  housekeepingOptions,
  lifecycleOptions,
  resizerOptions,
  syncerOptions,
} from './kubelet-part-options';
import { createKubeletMetrics, type KubeletMetrics } from './metrics';
import { forgetProbeRuns, recordProbeRun } from './metrics-collectors/prober-metrics';
import { registerVolumeStatsMetrics } from './metrics-collectors/volume-stats-metrics';
import { EventedRelist } from './pleg/evented-relist';
import { GenericPLEG } from './pleg/generic-pleg';
import { PodCache } from './pleg/pod-cache';
import { CSI_PLUGIN, DEVICE_PLUGIN, DRA_PLUGIN } from './pluginmanager/plugin-handler';
import { PluginManager } from './pluginmanager/plugin-manager';
import { MirrorPods } from './pod/mirror-pods';
import { PodProber } from './probes/pod-prober';
import { podRuntimeStack } from './runtime-stack';
import { isMirrorPodMissingError } from './status/mirror-pod-missing';
import { StatusManager } from './status/status-manager';
import { ContainerGarbageCollector } from './sync/container-garbage-collector';
import { NodeFacts } from './sync/node-facts';
import { OrphanedRuntimePods } from './sync/orphaned-runtime-pods';
import type { PodCleanup } from './sync/pod-cleanup';
import { PodHousekeeping } from './sync/pod-housekeeping';
import { PodIntake } from './sync/pod-intake';
import { PodLifecycle } from './sync/pod-lifecycle';
import { PodResizer } from './sync/pod-resizer';
import { PodRuntimeView } from './sync/pod-runtime-view';
import { PodStateStore } from './sync/pod-state-store';
import { PodSyncer } from './sync/pod-syncer';
import { PodWorkRequests } from './sync/pod-work-requests';
import { CsiDrivers } from './volumes/csi/csi-drivers';
import { CsiExhaustedResource } from './volumes/csi/csi-exhausted-resource';
import { CsiNodeAllocatableUpdater } from './volumes/csi/csi-node-allocatable-updater';
import type { CsiNodeInfo } from './volumes/csi/csi-node-info';
import { CsiNodeInitialization } from './volumes/csi/csi-node-initialization';
import { CsiRegistrationHandler } from './volumes/csi/csi-registration-handler';
import { CsiVolumes } from './volumes/csi/csi-volumes';
import { PodVolumeManager } from './volumes/pod-volume-manager';
import type { PodWorkers } from './workers/pod-workers';

const silent: KubeletLogger = { info() {}, warn() {}, error() {} };

/**
 * What a Kubelet is made of, top-down as one pod goes through it: intake (pods from the sources,
 * admitted, stored in podState) → workers (one per pod, running sync/'s three syncs through the
 * syncer, resizer and prober) → statusManager (the status PATCH). The PLEG (over the runtime),
 * housekeeping (eviction, image GC) and the container GC run beside them; requests is how they
 * ask for a pod's sync.
 */
export interface KubeletParts {
  /** The pod half of the runtime stack over the options' runtime (runtime-stack.ts). */
  runtime: PodRuntime;
  clock: Clock;
  logger: KubeletLogger;
  metrics: KubeletMetrics;
  mirrorPods: MirrorPods;
  podState: PodStateStore;
  node: NodeFacts;
  cache: PodCache;
  pleg: GenericPLEG;
  eventedRelist: EventedRelist;
  runtimeView: PodRuntimeView;
  volumes: PodVolumeManager;
  /** Orphaned running pods, reconstructed volumes of pods that are gone and orphaned pod directories, once sources are ready. */
  podHousekeeping: PodHousekeeping;
  /** The plugin manager (plugins_registry) and the CSI drivers registered through it. */
  pluginManager: PluginManager;
  /** The DRA manager; it reads ResourceClaims through KubeletApi.dra. */
  dra: DraManager;
  csiDrivers: CsiDrivers;
  /** Upstream's csiNodeUpdater: drivers' allocatable counts kept current; none without a CSIDriver watch. */
  csiAllocatableUpdater: CsiNodeAllocatableUpdater | undefined;
  /** This node's CSINode set up at start (upstream's initializeCSINode); none without an API server. */
  csiNodeInitialization: CsiNodeInitialization | undefined;
  prober: PodProber;
  statusManager: StatusManager;
  requests: PodWorkRequests;
  syncer: PodSyncer;
  resizer: PodResizer;
  housekeeping: KubeletHousekeeping;
  workers: PodWorkers;
  cleanup: PodCleanup;
  intake: PodIntake;
  containerGC: ContainerGarbageCollector;
}

/**
 * Builds every part once, each from the ones before it. Two closures read a part built after
 * them, where parts need each other: the prober's result handler and the PLEG's event handler
 * ask `requests` for a sync (they run only once the kubelet has started).
 */
export function buildKubeletParts(kubeletOptions: KubeletOptions): KubeletParts {
  const mirrorPods = new MirrorPods();
  const podState = new PodStateStore(mirrorPods);
  // The pod half of the runtime stack (pod cgroups, image pull limit) over the PodRuntime given
  // (the executable's criRuntimeStack, or a test's runtime).
  const clock = kubeletOptions.pacing?.clock ?? systemClock;
  const logger = kubeletOptions.logger ?? silent;
  const metrics = kubeletOptions.metrics ?? createKubeletMetrics();
  const dra = draManager(kubeletOptions, { clock, logger, metrics });
  const stacked = podRuntimeStack(kubeletOptions.runtime, {
    config: kubeletOptions.config,
    cgroups: kubeletOptions.cgroups,
    podOf: podState.pod.bind(podState),
    now: () => clock.now(),
  });
  // CreateContainer carries the CDI devices of the claims each container uses.
  const runtime = withContainerClaims(stacked, dra, podState.pod.bind(podState));
  const options: KubeletOptions = { ...kubeletOptions, runtime };
  const node = new NodeFacts(options.node.allocatable);
  const csiDrivers = new CsiDrivers(options.pacing?.csiTimeoutMs);
  const csiAllocatableUpdater = csiAllocatableUpdaterOf(options, { csiDrivers, logger, clock });
  const pluginManager = pluginManagerWithHandlers(options, {
    clock,
    logger,
    metrics,
    csiDrivers,
    dra,
    csiAllocatableUpdater,
  });
  // Upstream's sync loop syncs the pods whose claimed devices changed health.
  dra.watchHealth((uids) => {
    for (const uid of uids) requests.resync(uid);
  });
  const csiVolumes = csiVolumesOf(options, { csiDrivers, logger, csiAllocatableUpdater });
  const csiNodeInfo = options.api?.csi?.nodeInfo;
  const csiNodeInitialization = csiNodeInfo
    ? new CsiNodeInitialization({ nodeInfo: csiNodeInfo, logger, clock })
    : undefined;
  const volumes = podVolumeManager(options, { csiVolumes, clock, logger, metrics });
  const prober = new PodProber({
    runtime,
    clock,
    onChange: (uid, update) => {
      // Upstream SetContainerReadiness/SetContainerStartup: the result is in the status at once.
      statusManager.applyProbeResult(update, clock.now());
      requests.resync(uid);
    },
    onRun: (event) => recordProbeRun(metrics, podState.pod(event.podUID), event),
    onPodRemoved: (uid, container, types) =>
      forgetProbeRuns(metrics, podState.pod(uid), uid, container, types),
    recordEvent: options.api?.recordEvent,
    podOf: podState.pod.bind(podState),
  });
  const statusManager = newStatusManager(options, { clock, logger, prober, podState, metrics });
  const cache = new PodCache();
  const pleg = new GenericPLEG({
    runtime,
    cache,
    clock,
    relistPeriodMs: options.pacing?.relistPeriodMs,
    metrics,
    onEvent: (event) => requests.handlePlegEvent(event),
    onError: (error) => logger.error({ err: String(error) }, 'PLEG relist failed'),
    onDemandRelist: featureGateEnabled(options.config.featureGates, 'PLEGOnDemandRelist'),
  });
  const runtimeView = new PodRuntimeView(pleg, cache, metrics);
  const requests = new PodWorkRequests(podState, statusManager, runtimeView);
  const syncer = new PodSyncer(
    syncerOptions(options, { volumes, clock, logger, metrics, node, prober, dra }),
  );
  const resizer = new PodResizer(resizerOptions(options, { clock, logger, node, requests }));
  const housekeeping = new KubeletHousekeeping(
    housekeepingOptions(options, { clock, logger, metrics, pods: podState, requests }),
  );
  const { workers, cleanup } = new PodLifecycle(
    lifecycleOptions(options, {
      syncer,
      statusManager,
      prober,
      metrics,
      clock,
      logger,
      podState,
      runtimeView,
      resizer,
      housekeeping,
      volumes,
      dra,
    }),
  );
  requests.attach(workers);
  const intake = new PodIntake({
    pods: podState,
    mirrorPods,
    workers,
    cleanup,
    admitHandlers: admitHandlers(options, { node, housekeeping }),
    pendingAdmission: options.pendingAdmission,
    resizer,
    clock,
    admissionRejections: metrics.admissionRejections,
  });
  const containerGC = new ContainerGarbageCollector({ runtime, pods: requests, logger, clock });
  const eventedRelist = new EventedRelist(runtime, pleg, logger);
  const podHousekeeping = new PodHousekeeping({
    orphans: new OrphanedRuntimePods({ pods: podState, cache, syncer, runtime, logger }),
    volumes,
    resizer,
    backOffs: [syncer.crashBackOff, syncer.imageBackOff],
    pods: podState,
    cache,
    clock,
    logger,
  });
  return {
    runtime,
    clock,
    logger,
    metrics,
    mirrorPods,
    podState,
    node,
    cache,
    pleg,
    eventedRelist,
    runtimeView,
    volumes,
    podHousekeeping,
    pluginManager,
    dra,
    csiDrivers,
    csiNodeInitialization,
    csiAllocatableUpdater,
    prober,
    statusManager,
    requests,
    syncer,
    resizer,
    housekeeping,
    workers,
    cleanup,
    intake,
    containerGC,
  };
}

/**
 * The pods' volumes: CSI through csiVolumes, FlexVolume drivers under volumePluginDir, mount
 * back-offs on the kubelet's clock, and the claims' kubelet_volume_stats_*.
 */
function podVolumeManager(
  options: KubeletOptions,
  parts: { csiVolumes: CsiVolumes | undefined; clock: Clock; logger: KubeletLogger; metrics: KubeletMetrics },
): PodVolumeManager {
  const volumes = new PodVolumeManager({
    rootDir: options.node.rootDir,
    mounter: options.mounter,
    now: () => new Date(parts.clock.now()),
    csi: parts.csiVolumes,
    volumePluginDir: options.config.volumePluginDir,
    logger: parts.logger,
    registry: parts.metrics.registry,
  });
  // kubelet_volume_stats_* for the claims (CSI, local and nfs ones need the API server's claims);
  // volumeStatsAggPeriod 0 turns volume stats off, as upstream.
  const volumeStatsPeriodMs = parseDuration(options.config.volumeStatsAggPeriod);
  if (parts.csiVolumes && volumeStatsPeriodMs > 0)
    registerVolumeStatsMetrics(
      parts.metrics.registry,
      () => volumes.claimVolumeStats(),
      parts.clock,
      volumeStatsPeriodMs,
    );
  return volumes;
}

/**
 * The CSI volumes of pods' claims and inline volumes, when the kubelet has an API server (the
 * CSIDriver, claim and attachment objects come from it).
 */
function csiVolumesOf(
  options: KubeletOptions,
  parts: {
    csiDrivers: CsiDrivers;
    logger: KubeletLogger;
    csiAllocatableUpdater: CsiNodeAllocatableUpdater | undefined;
  },
): CsiVolumes | undefined {
  const { csiDrivers, csiAllocatableUpdater } = parts;
  const csiApi = options.api?.csi;
  // Upstream's VerifyExhaustedResource reads the CSIDriver lister: only with the CSIDriver watch.
  const watch = csiApi?.driverWatch;
  const exhaustedResource =
    csiApi && watch && csiAllocatableUpdater
      ? new CsiExhaustedResource({
          objects: csiApi.objects,
          nodeName: options.node.name,
          periodMs: (driver) => watch.nodeAllocatableUpdatePeriodMs(driver),
          updateDriver: (driver) => csiAllocatableUpdater.update(driver),
          logger: parts.logger,
        })
      : undefined;
  const csiVolumes = csiApi
    ? new CsiVolumes({
        rootDir: options.node.rootDir,
        nodeName: options.node.name,
        drivers: csiDrivers,
        ...(options.mounter ? { mounter: options.mounter } : {}),
        objects: csiApi.objects,
        tokens: csiApi.tokens,
        claimStatus: csiApi.claimStatus,
        recordEvent: options.api?.recordEvent,
        volumeHealth: featureGateEnabled(options.config.featureGates, 'CSIVolumeHealth'),
        exhaustedResource,
        nodeLabels: () => options.api?.node?.()?.labels,
      })
    : undefined;
  return csiVolumes;
}

/**
 * Upstream's csiNodeUpdater over the CSIDriver watch, when there is one: each CSIDriver change
 * re-evaluates that driver's periodic NodeGetInfo.
 */
function csiAllocatableUpdaterOf(
  options: KubeletOptions,
  parts: { csiDrivers: CsiDrivers; logger: KubeletLogger; clock: Clock },
): CsiNodeAllocatableUpdater | undefined {
  const csi = options.api?.csi;
  const watch = csi?.driverWatch;
  if (!csi || !watch) return undefined;
  const updater = new CsiNodeAllocatableUpdater({
    drivers: parts.csiDrivers,
    nodeInfo: csi.nodeInfo,
    periodMs: (driver) => watch.nodeAllocatableUpdatePeriodMs(driver),
    logger: parts.logger,
    clock: parts.clock,
  });
  watch.onChange((driver) => updater.sync(driver));
  return updater;
}

/** The plugin manager (plugins_registry) with its CSIPlugin and DRAPlugin handlers. */
function pluginManagerWithHandlers(
  options: KubeletOptions,
  parts: {
    clock: Clock;
    logger: KubeletLogger;
    metrics: KubeletMetrics;
    csiDrivers: CsiDrivers;
    dra: DraManager;
    csiAllocatableUpdater: CsiNodeAllocatableUpdater | undefined;
  },
): PluginManager {
  const { logger } = parts;
  const pluginManager = new PluginManager({
    rootDir: options.node.rootDir,
    clock: parts.clock,
    logger,
    registry: parts.metrics.registry,
  });
  const csiNodeInfo = options.api?.csi?.nodeInfo ?? standaloneCsiNodeInfo(logger);
  pluginManager.addHandler(
    CSI_PLUGIN,
    new CsiRegistrationHandler(parts.csiDrivers, csiNodeInfo, logger, parts.csiAllocatableUpdater),
  );
  pluginManager.addHandler(DRA_PLUGIN, parts.dra.plugins);
  // Device plugins registering through plugins_registry (upstream's deprecated second way).
  if (options.devicePlugins) pluginManager.addHandler(DEVICE_PLUGIN, options.devicePlugins);
  return pluginManager;
}

/**
 * Upstream's container manager creates the DRA manager (DynamicResourceAllocation is GA and locked
 * on), with or without an API server: without one (KubeletApi.dra) no claim can be read, so a pod
 * with resourceClaims waits instead of running unprepared. Its checkpoint is read now; a corrupt
 * one stops the kubelet, as upstream.
 */
function draManager(
  options: KubeletOptions,
  parts: { clock: Clock; logger: KubeletLogger; metrics: KubeletMetrics },
): DraManager {
  const api = options.api?.dra;
  return new DraManager({
    rootDir: options.node.rootDir,
    nodeName: options.node.name,
    claims: api?.claims ?? standaloneClaims,
    slices: api?.slices,
    connector: api?.connector ?? grpcDraConnector(),
    clock: parts.clock,
    logger: parts.logger,
    registry: parts.metrics.registry,
    resourceHealthStatus: featureGateEnabled(options.config.featureGates, 'ResourceHealthStatus'),
    extendedResource: featureGateEnabled(options.config.featureGates, 'DRAExtendedResource'),
    resourceHealthStatusMessage: featureGateEnabled(
      options.config.featureGates,
      'ResourceHealthStatusMessage',
    ),
  });
}

/** Claims without an API server: none can be read (the pod's event says so). */
const standaloneClaims: ResourceClaimApi = {
  async getResourceClaim() {
    throw new Error('no API server to read it from (standalone mode)');
  },
};

/** Without an API server there is no CSINode to write (upstream's standalone kubelet skips it too). */
function standaloneCsiNodeInfo(logger: KubeletLogger): CsiNodeInfo {
  return {
    async installDriver(driver) {
      logger.info({ driver: driver.name }, 'Skipping CSINode update, kubelet running in standalone mode');
    },
    async uninstallDriver() {},
    async updateDriverAllocatable() {},
  };
}

/** The status manager over the options' writer; a write it cannot make is logged. */
function newStatusManager(
  options: KubeletOptions,
  parts: {
    clock: Clock;
    logger: KubeletLogger;
    prober: PodProber;
    podState: PodStateStore;
    metrics: KubeletMetrics;
  },
): StatusManager {
  const { logger, prober } = parts;
  return new StatusManager({
    writer: options.api?.statusWriter,
    // A container just started: its status goes out with its first readiness verdict.
    holdWrite: prober.firstReadinessRuns.bind(prober),
    clock: parts.clock,
    // The API's copy the reconcile compares with (a static pod's: its mirror pod).
    apiPodOf: parts.podState.apiPodOf,
    onContainerTerminated: ({ containerType, exitCode, reason }) =>
      parts.metrics.terminatedContainers.inc({
        container_type: containerType,
        exit_code: String(exitCode),
        reason,
      }),
    onError: (pod, error) => {
      // Expected until the API server answers and the Node is registered: the status goes out at
      // the sync after the mirror pod is created (see Kubelet.resyncPods).
      if (isMirrorPodMissingError(error)) return;
      logger.warn({ pod: podName(pod), err: String(error) }, 'Failed to update status for pod');
    },
  });
}
