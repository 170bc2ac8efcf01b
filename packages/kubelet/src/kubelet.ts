import { join } from 'node:path';
import { type Clock, parseDuration, systemClock } from '@nodeagent/primitives';
import type { PodAdmitHandler } from './admission/admit-handler';
import { ephemeralContainerChecks } from './admission/ephemeral-container-checks';
import { kubeletAdmitHandlers } from './admission/kubelet-admit-handlers';
import { isStaticPod } from './api/config-source';
import { podName } from './api/pod-name';
import type { Pod, PodStatus, ResourceList } from './api/pod-types';
import { everyOn } from './clock-timers';
import type { NodeSwapFacts } from './cri/container-swap';
import { linuxContainerResources } from './cri/linux-resources';
import type { PodRuntimeStatus } from './cri/runtime-state';
import { defaultMaxParallelPodStarts, StartLimiter } from './cri/start-limiter';
import { setupDataDirs } from './data-dirs';
import type { ObjectSource } from './env/resolve-env';
import { nodeEventReasons, startingKubeletMessage } from './events/event-reasons';
import { warningLoggingRecorder } from './events/warning-logging-recorder';
import { isCriticalPod } from './eviction/critical-pod';
import { KubeletHousekeeping } from './eviction/kubelet-housekeeping';
import type { KubeletLogger } from './kubelet-logger';
import type { KubeletOptions } from './kubelet-options';
import { createKubeletMetrics, type KubeletMetrics } from './metrics';
import { forgetProbeRuns, recordProbeRun } from './metrics-collectors/prober-metrics';
import { EventedRelist } from './pleg/evented-relist';
import { GenericPLEG, type PodLifecycleEvent } from './pleg/generic-pleg';
import { PodCache } from './pleg/pod-cache';
import { MirrorPods } from './pod/mirror-pods';
import { PodProber } from './probes/pod-prober';
import { podRuntimeStack } from './runtime-stack';
import { isMirrorPodMissingError } from './status/mirror-pod-missing';
import { StatusManager } from './status/status-manager';
import { ContainerGarbageCollector } from './sync/container-garbage-collector';
import { NodeFacts } from './sync/node-facts';
import type { PodCleanup } from './sync/pod-cleanup';
import { PodIntake } from './sync/pod-intake';
import { PodLifecycle, type PodLifecycleOptions } from './sync/pod-lifecycle';
import { PodResizer } from './sync/pod-resizer';
import { PodRuntimeView } from './sync/pod-runtime-view';
import { PodStateStore } from './sync/pod-state-store';
import { PodSyncer } from './sync/pod-syncer';
import type { PodSyncContext } from './sync/sync-pod';
import type { PodTerminationContext } from './sync/sync-terminating-pod';
import { PodVolumeManager } from './volumes/pod-volume-manager';
import type { PodWorkers } from './workers/pod-workers';

export type {
  KubeletApi,
  KubeletImages,
  KubeletNode,
  KubeletOptions,
  KubeletPacing,
  KubeletProbes,
} from './kubelet-options';

const noObjects: ObjectSource = { getConfigMap: async () => undefined, getSecret: async () => undefined };
const silent: KubeletLogger = { info() {}, warn() {}, error() {} };

/**
 * The pod-lifecycle engine: pods from the sources go to one worker each; a sync compares the
 * spec with the PLEG's view of the runtime, acts through the PodRuntime and reports the
 * generated status to the status manager; PLEG events and a periodic resync drive further syncs.
 */
export class Kubelet {
  readonly pleg: GenericPLEG;
  readonly cache = new PodCache();
  readonly statusManager: StatusManager;
  /**
   * The API's mirror pods of this node (an ApiPodSource's `mirrorPods`): never run, only the
   * copy each static pod's status is reconciled against.
   */
  readonly mirrorPods = new MirrorPods();
  readonly workers: PodWorkers;
  readonly syncer: PodSyncer;
  readonly volumes: PodVolumeManager;
  readonly metrics: KubeletMetrics;
  /** Runs liveness/readiness/startup probes of running containers (@nodeagent/probes). */
  readonly prober: PodProber;
  private readonly options: KubeletOptions;
  /** Node allocatable (downward API limits, resize and admission) and the runtime's features. */
  private readonly node: NodeFacts;
  private readonly clock: Clock;
  private readonly logger: KubeletLogger;
  /** Every pod's state (the pod, admission refusal, eviction, removal, first-seen time); the syncs read it. */
  private readonly podState = new PodStateStore(this.mirrorPods);
  /** The syncs' view of the runtime: the PLEG cache, one pod read again, the running gauges. */
  private readonly runtimeView: PodRuntimeView;
  /** Eviction manager, image GC and pod cgroups. */
  readonly housekeeping: KubeletHousekeeping;
  /** Pods from the sources: admitted (upstream admitHandlers) or refused, stored, handed to their workers. */
  private readonly intake: PodIntake;
  private stopResync: (() => void) | undefined;
  private stopStatusReconcile: (() => void) | undefined;
  /** Upstream's periodic container GC: dead containers, and what a failed cleanup left behind. */
  readonly containerGC: ContainerGarbageCollector;
  /** @internal In-place pod resize: allocations and their checkpoint, resize conditions and events. */
  readonly resizer: PodResizer;
  /** A terminated pod's end: its runtime objects, API object and everything held about it removed. */
  private readonly cleanup: PodCleanup;
  /** Relists on CRI container events (evented PLEG on top of the periodic relist). */
  private readonly eventedRelist: EventedRelist;
  private started = false;

  constructor(options: KubeletOptions) {
    // The pod half of the runtime stack (runtime-stack.ts: pod cgroups, image pull limit), over
    // the PodRuntime given (the executable's criRuntimeStack, or a test's runtime).
    const runtime = podRuntimeStack(options.runtime, {
      config: options.config,
      cgroups: options.cgroups,
      podOf: this.podState.pod.bind(this.podState),
    });
    options = { ...options, runtime };
    this.options = options;
    this.clock = options.pacing?.clock ?? systemClock;
    this.logger = options.logger ?? silent;
    this.metrics = options.metrics ?? createKubeletMetrics();
    this.volumes = new PodVolumeManager({
      rootDir: options.node.rootDir,
      mounter: options.mounter,
      // Mount back-offs run on the kubelet's clock.
      now: () => new Date(this.clock.now()),
    });
    // Each part below is built from the ones before it (the syncer reads the prober's state, the
    // pod workers' sync context holds the syncer, status manager, prober and resizer).
    this.prober = this.newProber();
    this.statusManager = this.newStatusManager();
    this.node = new NodeFacts(options.node.allocatable);
    const swapFacts: NodeSwapFacts | undefined = options.node.swap && {
      ...options.node.swap,
      behavior: options.config.memorySwap.swapBehavior,
      memoryCapacity: options.node.memoryCapacity,
    };
    this.syncer = this.newSyncer(swapFacts);
    this.pleg = new GenericPLEG({
      runtime: options.runtime,
      cache: this.cache,
      clock: this.clock,
      relistPeriodMs: options.pacing?.relistPeriodMs,
      metrics: this.metrics,
      onEvent: (event) => this.handlePlegEvent(event),
      onError: (error) => this.logger.error({ err: String(error) }, 'PLEG relist failed'),
    });
    this.eventedRelist = new EventedRelist(options.runtime, this.pleg, this.logger);
    this.runtimeView = new PodRuntimeView(this.pleg, this.cache, this.metrics);
    this.resizer = this.newResizer(swapFacts);
    this.housekeeping = this.newHousekeeping();
    const lifecycle = this.newPodLifecycle();
    this.workers = lifecycle.workers;
    this.cleanup = lifecycle.cleanup;
    this.containerGC = new ContainerGarbageCollector({
      runtime: options.runtime,
      isActive: (uid) => this.podState.has(uid) && !this.workers.isTerminated(uid),
      isKnown: (uid) => this.podState.has(uid),
      onError: (error) => this.logger.warn({ err: String(error) }, 'Container garbage collection failed'),
      clock: this.clock,
    });
    this.intake = new PodIntake({
      pods: this.podState,
      mirrorPods: this.mirrorPods,
      workers: this.workers,
      cleanup: this.cleanup,
      admitHandlers: this.newAdmitHandlers(),
      resizer: this.resizer,
      statuses: this.statusManager,
      clock: this.clock,
    });
  }

  /** The prober: its results go into the status at once and sync the pod again. */
  private newProber(): PodProber {
    const { options } = this;
    return new PodProber({
      runtime: options.runtime,
      // Probe periods, initialDelaySeconds and the restart spread run on the Kubelet's clock too.
      clock: this.clock,
      onChange: (uid, update) => {
        // Upstream SetContainerReadiness/SetContainerStartup: the result is in the status at once.
        this.statusManager.applyProbeResult(update, this.clock.now());
        const pod = this.podState.pod(uid);
        if (pod) this.workers.updatePod({ pod, updateType: 'sync' });
      },
      onRun: (event) => recordProbeRun(this.metrics, this.podState.pod(event.podUID), event),
      onPodRemoved: (uid, container, types) =>
        forgetProbeRuns(this.metrics, this.podState.pod(uid), uid, container, types),
      recordEvent: options.api?.recordEvent,
      podOf: this.podState.pod.bind(this.podState),
    });
  }

  /** The status manager over the options' writer; a write it cannot make is logged. */
  private newStatusManager(): StatusManager {
    return new StatusManager({
      writer: this.options.api?.statusWriter,
      // A container just started: its status goes out with its first readiness verdict.
      holdWrite: this.prober.firstReadinessRuns.bind(this.prober),
      clock: this.clock,
      // The API's copy the reconcile compares with (a static pod's: its mirror pod).
      apiPodOf: this.podState.apiPodOf,
      onError: (pod, error) => {
        // Expected until the API server answers and the Node is registered: the status goes
        // out at the sync after the mirror pod is created (see resyncPods).
        if (isMirrorPodMissingError(error)) return;
        this.logger.warn({ pod: podName(pod), err: String(error) }, 'Failed to update status for pod');
      },
    });
  }

  /** The runtime half of the pod sync, with the node facts its containers see. */
  private newSyncer(swapFacts: NodeSwapFacts | undefined): PodSyncer {
    const { options } = this;
    return new PodSyncer({
      runtime: options.runtime,
      volumes: this.volumes,
      clock: this.clock,
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
        swap: swapFacts,
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
      node: this.node,
      probes: options.probes?.state ?? this.prober.probeState(),
      metrics: this.metrics,
      sleep: options.pacing?.sleep,
      startLimiter: new StartLimiter(options.pacing?.maxParallelPodStarts ?? defaultMaxParallelPodStarts()),
      listeners: {
        onEvent: warningLoggingRecorder(this.logger, options.api?.recordEvent),
        onSwapShareError: (pod, container, error) =>
          this.logger.error(
            { pod: podName(pod), container: container.name, err: error.message },
            'cannot calculate swap allocation amount; disallowing swap',
          ),
      },
      userNamespaces: options.userNamespaces,
      // Ephemeral containers come after admission: the same security refusals, per container.
      ephemeralContainerCheck: ephemeralContainerChecks({
        seLinuxEnabled: options.node.seLinuxEnabled,
        strictAdmission: options.node.strictAdmission,
      }),
    });
  }

  /** In-place pod resize: allocations, their checkpoint and the containers' CRI resources. */
  private newResizer(swapFacts: NodeSwapFacts | undefined): PodResizer {
    const { options } = this;
    return new PodResizer({
      rootDir: options.node.rootDir,
      cgroups: options.cgroups,
      cgroupOptions: {
        cpuCFSQuota: options.config.cpuCFSQuota,
        cpuCFSQuotaPeriodUs: parseDuration(options.config.cpuCFSQuotaPeriod) * 1000,
      },
      updateContainerResources: options.runtime.updateContainerResources?.bind(options.runtime),
      linuxResources: (pod, container) =>
        linuxContainerResources(pod, container, {
          memoryCapacity: options.node.memoryCapacity,
          swap: swapFacts,
        }),
      clock: this.clock,
      recordEvent: options.api?.recordEvent,
      node: this.node,
      activePods: () => this.intake.activePods(),
      isStaticPod,
      resync: (uid) => {
        const pod = this.podState.pod(uid);
        if (pod) this.workers.updatePod({ pod, updateType: 'sync' });
      },
      onError: (pod, error) =>
        this.logger.warn({ pod: podName(pod), err: String(error) }, 'Pod resize failed'),
    });
  }

  /** The pod workers, dispatching the one pod sync and the terminating and terminated ones. */
  private newPodLifecycle(): PodLifecycle {
    const { options } = this;
    // The one pod sync (sync/sync-pod.ts) reads and reports through this; the workers dispatch it.
    const syncContext: PodSyncContext = {
      syncer: this.syncer,
      runtime: options.runtime,
      statuses: this.statusManager,
      prober: this.prober,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      hostIPs: options.node.hostIPs,
      pods: this.podState,
      runtimeView: this.runtimeView,
      probeResults: options.probes,
      runtimeType: options.runtimeType,
      retryMs: options.pacing?.retryMs,
      recordEvent: options.api?.recordEvent,
      resizer: this.resizer,
    };
    // Stopping a pod (sync/sync-terminating-pod.ts) reads and reports through this.
    const terminationContext: PodTerminationContext = {
      syncer: this.syncer,
      statuses: this.statusManager,
      prober: this.prober,
      runtimeView: this.runtimeView,
      pods: this.podState,
      reclaimer: this.housekeeping,
      resizer: this.resizer,
      clock: this.clock,
      hostIPs: options.node.hostIPs,
      runtimeType: options.runtimeType,
    };
    return new PodLifecycle({
      running: syncContext,
      stopping: terminationContext,
      cleanup: this.cleanupParts(),
      retries: {
        retryMs: options.pacing?.retryMs,
        clock: this.clock,
        maxRetryMs: parseDuration(options.config.syncFrequency),
      },
      logger: this.logger,
    });
  }

  /** What a terminated pod's cleanup removes the pod from (its worker: the lifecycle's own). */
  private cleanupParts(): PodLifecycleOptions['cleanup'] {
    const { options } = this;
    return {
      runtime: options.runtime,
      volumes: this.volumes,
      statuses: this.statusManager,
      pods: this.podState,
      runtimeView: this.runtimeView,
      syncer: this.syncer,
      resizer: this.resizer,
      reclaimer: this.housekeeping,
      userNamespaces: options.userNamespaces,
      node: { podLogsDir: options.config.podLogsDir, podCgroups: options.cgroups !== undefined },
      logger: this.logger,
      clock: this.clock,
      retryMs: options.pacing?.retryMs,
      onCleanupsDone: options.onCleanupsDone,
    };
  }

  /** The eviction manager (container and image GC as its disk reclaim), image GC and pod cgroups. */
  private newHousekeeping(): KubeletHousekeeping {
    const { options } = this;
    return new KubeletHousekeeping({
      config: options.config,
      runtime: options.runtime,
      clock: this.clock,
      logger: this.logger,
      stats: options.stats,
      images: options.images?.service,
      imageFs: options.images?.fs,
      imagePullManager: options.images?.pullManager,
      cgroups: options.cgroups,
      evictionMonitoringPeriodMs: options.pacing?.evictionMonitoringPeriodMs,
      registry: this.metrics.registry,
      activePods: () => this.intake.activePods(),
      knownPodUids: () => this.podState.uids(),
      evictPod: (pod, grace, status) => this.intake.evict(pod, grace, status),
    });
  }

  /** Upstream's admit handlers; throws InvalidConfigError for an allowedUnsafeSysctls entry that is not namespaced. */
  private newAdmitHandlers(): PodAdmitHandler[] {
    const { options } = this;
    return kubeletAdmitHandlers({
      maxPods: options.config.maxPods,
      allowedUnsafeSysctls: options.config.allowedUnsafeSysctls ?? [],
      eviction: (pod) => this.housekeeping.admit(pod),
      runtimeFeatures: () => this.node.runtimeFeatures,
      kernelRelease: options.node.kernelRelease,
      seLinuxEnabled: options.node.seLinuxEnabled,
      strictAdmission: options.node.strictAdmission,
      podCgroups: options.cgroups !== undefined,
      nodeAllocatable: () => this.node.allocatable,
      isCriticalPod,
      allocatesUserNamespaces: options.userNamespaces !== undefined,
    });
  }

  /** Adopts what the runtime already runs (after a restart), then starts PLEG and the resync loop. */
  /**
   * The node's allocatable resources, which limits.* of a container without limits resolve to in
   * the downward API (upstream reads the Node's status.allocatable the same way).
   */
  setNodeAllocatable(allocatable: ResourceList): void {
    this.node.allocatable = allocatable;
  }

  /**
   * Sets up the data directories, reads the allocation checkpoint and the runtime's features,
   * then starts housekeeping, the PLEG (after one initial relist), container GC and the periodic
   * resync (`syncFrequency`). Calling it again while started does nothing.
   */
  async start(): Promise<void> {
    if (this.started) return;
    // Upstream setupDataDirs: --root-dir, podLogsDir, pods/ and checkpoints/ exist before anything uses them.
    await setupDataDirs(
      this.options.node.rootDir,
      this.options.config.podLogsDir,
      this.options.config.featureGates,
    );
    await this.resizer.start((error) =>
      this.logger.warn({ err: String(error) }, 'Allocation checkpoint unreadable; starting over'),
    );
    this.started = true;
    this.cleanup.resumeRetries();
    // Upstream records this on the Node before the pod workers start.
    this.options.api?.recordNodeEvent?.('Normal', nodeEventReasons.starting, startingKubeletMessage);
    this.node.runtimeFeatures = await this.options.runtime.runtimeFeatures?.().catch((error) => {
      this.logger.warn({ err: String(error) }, 'Cannot read the runtime features; treating all as missing');
      return undefined;
    });
    await this.housekeeping.start();
    await this.pleg
      .relist()
      .catch((error) => this.logger.error({ err: String(error) }, 'initial relist failed'));
    this.pleg.start();
    this.containerGC.start();
    void this.eventedRelist.start();
    const resync = parseDuration(this.options.config.syncFrequency);
    this.stopResync = everyOn(this.clock, resync, () => {
      for (const [uid, pod] of this.podState.entries()) {
        if (!this.workers.hasScheduledRetry(uid)) this.workers.updatePod({ pod, updateType: 'sync' });
      }
      // User namespace blocks of pods neither known nor in the runtime go back to the pool.
      void this.options.userNamespaces
        ?.releaseOrphans([...this.podState.uids(), ...this.cache.all().map((status) => status.uid)])
        .catch((error) => this.logger.warn({ err: String(error) }, 'Cannot release user namespaces'));
    });
    // Upstream's status manager puts its own status back where the API's copy differs (syncBatch).
    this.stopStatusReconcile = this.statusManager.startReconcile();
  }

  /**
   * Stops the resync, housekeeping, container GC, pod workers, prober and PLEG, then waits for
   * in-flight syncs and status writes. Running containers are left as they are (as when
   * upstream's kubelet exits).
   */
  async stop(): Promise<void> {
    this.started = false;
    this.cleanup.stopRetries();
    this.stopResync?.();
    this.stopResync = undefined;
    this.stopStatusReconcile?.();
    this.stopStatusReconcile = undefined;
    await this.housekeeping.stop();
    await this.containerGC.stop();
    this.eventedRelist.stop();
    this.workers.stop();
    await this.prober.close();
    await this.pleg.stop();
    await this.workers.idle();
    await this.statusManager.flush();
    // Actuated-resource records are written behind the status (PodResizer.report).
    await this.resizer.store.settled();
  }

  /** A pod appeared in a source (upstream HandlePodAdditions); a mirror pod is only held, never run. */
  addPod(pod: Pod): void {
    this.intake.add(pod);
  }

  /** A pod changed in its source (HandlePodUpdates); a deletionTimestamp starts termination. */
  updatePod(pod: Pod): void {
    this.intake.add(pod);
  }

  /** A pod left its source (HandlePodRemoves): stop it now; a mirror pod is forgotten. */
  removePod(pod: Pod): void {
    this.intake.remove(pod);
  }

  /** The full set of pods from one source replaces what that source gave before. */
  setPods(pods: Pod[], isFromSource: (pod: Pod) => boolean): void {
    this.intake.set(pods, isFromSource);
  }

  /**
   * Syncs these pods again now (e.g. static pods whose mirror pod was just created: their status,
   * not written while the mirror pod was missing, goes out).
   */
  resyncPods(pods: Pod[]): void {
    for (const { metadata } of pods) this.intake.resync(metadata.uid ?? '');
  }

  /** Every pod the kubelet holds: those from its sources, refused and terminated ones too until their cleanup is done. */
  getPods(): Pod[] {
    return this.podState.all();
  }

  /** The pod `uid` as the kubelet holds it (see {@link Kubelet.getPods}), or undefined. */
  getPod(uid: string): Pod | undefined {
    return this.podState.pod(uid);
  }

  /** The status the kubelet last generated for pod `uid`, or undefined before its first sync. */
  getPodStatus(uid: string): PodStatus | undefined {
    return this.statusManager.getPodStatus(uid);
  }

  /** The runtime's view of a pod, as the last relist or the pod's last sync saw it. */
  runtimeStatus(uid: string): PodRuntimeStatus | undefined {
    return this.runtimeView.cached(uid);
  }

  /** Every pod the runtime holds, as the last relist or sync saw it (upstream's runtime cache). */
  runtimePods(): PodRuntimeStatus[] {
    return this.cache.all();
  }

  /** Where container checkpoints are written (upstream's getCheckpointsDir: `<rootDir>/checkpoints`). */
  checkpointsDir(): string {
    return join(this.options.node.rootDir, 'checkpoints');
  }

  /** The /healthz verdict: unhealthy once the PLEG has not relisted within its threshold (upstream 3 min). */
  healthz(): { ok: true } | { ok: false; message: string } {
    const pleg = this.pleg.healthy();
    return pleg.ok ? pleg : { ok: false, message: `PLEG is not healthy: ${pleg.message}` };
  }

  /** Waits until every worker is idle and every status write is done (tests). */
  async settle(): Promise<void> {
    await this.workers.idle();
    await this.cleanup.settled();
    await this.statusManager.flush();
  }

  private handlePlegEvent(event: PodLifecycleEvent): void {
    const pod = this.podState.pod(event.podUid);
    // Upstream isSyncPodWorthy: a removed container (collected by the GC) changes nothing to act on.
    if (pod && event.type !== 'ContainerRemoved') this.workers.updatePod({ pod, updateType: 'sync' });
    this.runtimeView.recountRunning();
  }

  /** Whether CRI container events are being received. */
  get containerEventsActive(): boolean {
    return this.eventedRelist.active;
  }

  /** Resolves when every in-flight cleanup finished (tests). */
  async cleanups(): Promise<void> {
    await this.cleanup.settled();
  }
}
