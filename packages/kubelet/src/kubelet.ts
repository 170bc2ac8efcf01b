import { join } from 'node:path';
import { type Clock, parseDuration } from '@nodeagent/primitives';
import type { Pod, PodStatus, ResourceList } from './api/pod-types';
import { everyOn } from './clock-timers';
import { featureGateEnabled } from './config/feature-gate-rules';
import type { PodRuntimeStatus } from './cri/runtime-state';
import { setupDataDirs } from './data-dirs';
import type { DraManager } from './dra/dra-manager';
import { nodeEventReasons, startingKubeletMessage } from './events/event-reasons';
import type { KubeletHousekeeping } from './eviction/kubelet-housekeeping';
import type { KubeletLogger } from './kubelet-logger';
import type { KubeletOptions } from './kubelet-options';
import { buildKubeletParts, type KubeletParts } from './kubelet-parts';
import type { KubeletMetrics } from './metrics';
import type { GenericPLEG } from './pleg/generic-pleg';
import type { PodCache } from './pleg/pod-cache';
import type { PluginManager } from './pluginmanager/plugin-manager';
import type { MirrorPods } from './pod/mirror-pods';
import type { PodProber } from './probes/pod-prober';
import type { StatusManager } from './status/status-manager';
import type { ContainerGarbageCollector } from './sync/container-garbage-collector';
import type { PodResizer } from './sync/pod-resizer';
import type { PodSyncer } from './sync/pod-syncer';
import type { PodWorkRequests } from './sync/pod-work-requests';
import type { PodVolumeManager } from './volumes/pod-volume-manager';
import type { PodWorkers } from './workers/pod-workers';

export type {
  KubeletApi,
  KubeletImages,
  KubeletNode,
  KubeletOptions,
  KubeletPacing,
  KubeletProbes,
} from './kubelet-options';

/**
 * The pod-lifecycle engine: pods from the sources go to one worker each; a sync compares the
 * spec with the PLEG's view of the runtime, acts through the PodRuntime and reports the
 * generated status to the status manager; PLEG events and a periodic resync drive further syncs.
 * The parts are built in kubelet-parts.ts; the Kubelet starts and stops them and answers for them.
 */
export class Kubelet {
  readonly pleg: GenericPLEG;
  readonly cache: PodCache;
  readonly statusManager: StatusManager;
  /**
   * The API's mirror pods of this node (an ApiPodSource's `mirrorPods`): never run, only the
   * copy each static pod's status is reconciled against.
   */
  readonly mirrorPods: MirrorPods;
  readonly workers: PodWorkers;
  readonly syncer: PodSyncer;
  readonly volumes: PodVolumeManager;
  /** The plugin manager: CSI and DRA drivers register through `<root-dir>/plugins_registry`. */
  readonly pluginManager: PluginManager;
  /** @internal The DRA manager: pods' ResourceClaims prepared and unprepared through their drivers. */
  readonly dra: DraManager;
  readonly metrics: KubeletMetrics;
  /** Runs liveness/readiness/startup probes of running containers (@nodeagent/probes). */
  readonly prober: PodProber;
  /** Eviction manager, image GC and pod cgroups. */
  readonly housekeeping: KubeletHousekeeping;
  /** Upstream's periodic container GC: dead containers, and what a failed cleanup left behind. */
  readonly containerGC: ContainerGarbageCollector;
  /** @internal In-place pod resize: allocations and their checkpoint, resize conditions and events. */
  readonly resizer: PodResizer;
  private readonly options: KubeletOptions;
  private readonly parts: KubeletParts;
  private readonly clock: Clock;
  private readonly logger: KubeletLogger;
  private stopResync: (() => void) | undefined;
  private stopStatusReconcile: (() => void) | undefined;
  private started = false;

  constructor(options: KubeletOptions) {
    const parts = buildKubeletParts(options);
    this.parts = parts;
    this.options = { ...options, runtime: parts.runtime };
    this.clock = parts.clock;
    this.logger = parts.logger;
    this.metrics = parts.metrics;
    this.pleg = parts.pleg;
    this.cache = parts.cache;
    this.statusManager = parts.statusManager;
    this.mirrorPods = parts.mirrorPods;
    this.workers = parts.workers;
    this.syncer = parts.syncer;
    this.volumes = parts.volumes;
    this.pluginManager = parts.pluginManager;
    this.dra = parts.dra;
    this.prober = parts.prober;
    this.housekeeping = parts.housekeeping;
    this.containerGC = parts.containerGC;
    this.resizer = parts.resizer;
  }

  /**
   * @internal What the node shutdown manager uses to stop pods (kubeletShutdownKill) and to find
   * the active ones: the requests to the pod workers.
   */
  get podRequests(): PodWorkRequests {
    return this.parts.requests;
  }

  /**
   * The node's allocatable resources, which limits.* of a container without limits resolve to in
   * the downward API (upstream reads the Node's status.allocatable the same way).
   */
  setNodeAllocatable(allocatable: ResourceList): void {
    this.parts.node.allocatable = allocatable;
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
    // Upstream's container manager starts the DRA manager (its start-up ResourceSlice wipe, its
    // reconcile loop), and the volume plugins are initialised, before the plugin manager runs.
    this.dra.start(() => this.parts.requests.activePods());
    await this.volumes.initPlugins();
    // Upstream's CSI plugin sets up the CSINode as the plugins initialise; the node is not Ready until then.
    if (this.parts.csiNodeInitialization) void this.parts.csiNodeInitialization.start();
    else if (!this.options.api)
      this.logger.warn({}, 'Skipping CSINode initialization, kubelet running in standalone mode');
    // Upstream starts the plugin manager once the runtime is up: drivers register from here on.
    await this.parts.pluginManager.start();
    await this.resizer.start((error) =>
      this.logger.warn({ err: String(error) }, 'Allocation checkpoint unreadable; starting over'),
    );
    // Upstream's volume reconstruction runs before the pods are synced again.
    await this.volumes
      .reconstruct()
      .catch((error) => this.logger.error({ err: String(error) }, 'Volume reconstruction failed'));
    this.started = true;
    this.parts.cleanup.resumeRetries();
    // Upstream records this on the Node before the pod workers start.
    this.options.api?.recordNodeEvent?.('Normal', nodeEventReasons.starting, startingKubeletMessage);
    this.parts.node.runtimeFeatures = await this.options.runtime.runtimeFeatures?.().catch((error) => {
      this.logger.warn({ err: String(error) }, 'Cannot read the runtime features; treating all as missing');
      return undefined;
    });
    await this.housekeeping.start();
    await this.pleg
      .relist()
      .catch((error) => this.logger.error({ err: String(error) }, 'initial relist failed'));
    this.pleg.start();
    this.containerGC.start();
    // Upstream reads CRI GetContainerEvents only with the EventedPLEG gate (alpha, off by default).
    if (featureGateEnabled(this.options.config.featureGates, 'EventedPLEG'))
      void this.parts.eventedRelist.start();
    const resync = parseDuration(this.options.config.syncFrequency);
    this.stopResync = everyOn(this.clock, resync, () => {
      this.parts.requests.resyncAll();
      // User namespace blocks of pods neither known nor in the runtime go back to the pool.
      void this.options.userNamespaces
        ?.releaseOrphans([...this.parts.podState.uids(), ...this.cache.all().map((status) => status.uid)])
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
    this.parts.cleanup.stopRetries();
    this.parts.pluginManager.stop();
    this.parts.csiNodeInitialization?.stop();
    this.parts.csiAllocatableUpdater?.stop();
    this.dra.stop();
    this.stopResync?.();
    this.stopResync = undefined;
    this.stopStatusReconcile?.();
    this.stopStatusReconcile = undefined;
    this.parts.podHousekeeping.stop();
    await this.housekeeping.stop();
    await this.containerGC.stop();
    this.parts.eventedRelist.stop();
    this.workers.stop();
    await this.prober.close();
    await this.pleg.stop();
    await this.workers.idle();
    await this.statusManager.flush();
    // Actuated-resource records are written behind the status (PodResizer.report).
    await this.resizer.store.settled();
  }

  /**
   * Every pod source has delivered its pods (upstream's sourcesReady): from now on running pods
   * the kubelet does not hold are killed, the volumes of pods that are gone torn down and orphaned
   * pod directories removed, every housekeeping period (PodHousekeeping). Resolves when a sweep run now ended (called again, it sweeps again).
   */
  markSourcesReady(): Promise<void> {
    return this.started ? this.parts.podHousekeeping.start() : Promise.resolve();
  }

  /** A pod appeared in a source (upstream HandlePodAdditions); a mirror pod is only held, never run. */
  addPod(pod: Pod): void {
    this.parts.intake.add(pod);
  }

  /** A pod changed in its source (HandlePodUpdates); a deletionTimestamp starts termination. */
  updatePod(pod: Pod): void {
    this.parts.intake.add(pod);
  }

  /** A pod left its source (HandlePodRemoves): stop it now; a mirror pod is forgotten. */
  removePod(pod: Pod): void {
    this.parts.intake.remove(pod);
  }

  /** The full set of pods from one source replaces what that source gave before. */
  setPods(pods: Pod[], isFromSource: (pod: Pod) => boolean): void {
    this.parts.intake.set(pods, isFromSource);
  }

  /**
   * Syncs these pods again now (e.g. static pods whose mirror pod was just created: their status,
   * not written while the mirror pod was missing, goes out).
   */
  resyncPods(pods: Pod[]): void {
    for (const { metadata } of pods) this.parts.intake.resync(metadata.uid ?? '');
  }

  /** Every pod the kubelet holds: those from its sources, refused and terminated ones too until their cleanup is done. */
  getPods(): Pod[] {
    return this.parts.podState.all();
  }

  /** The pod `uid` as the kubelet holds it (see {@link Kubelet.getPods}), or undefined. */
  getPod(uid: string): Pod | undefined {
    return this.parts.podState.pod(uid);
  }

  /** The status the kubelet last generated for pod `uid`, or undefined before its first sync. */
  getPodStatus(uid: string): PodStatus | undefined {
    return this.statusManager.getPodStatus(uid);
  }

  /** The runtime's view of a pod, as the last relist or the pod's last sync saw it. */
  runtimeStatus(uid: string): PodRuntimeStatus | undefined {
    return this.parts.runtimeView.cached(uid);
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

  /**
   * Why the node is not Ready on storage's account (upstream's runtimeState.storageErrors): this
   * node's CSINode not yet set up, or the last failure to set it up; undefined once it is.
   */
  storageErrors(): string | undefined {
    return this.parts.csiNodeInitialization?.storageError();
  }

  /** Waits until every worker is idle and every status write is done (tests). */
  async settle(): Promise<void> {
    await this.workers.idle();
    await this.parts.cleanup.settled();
    await this.statusManager.flush();
  }

  /** Whether CRI container events are being received. */
  get containerEventsActive(): boolean {
    return this.parts.eventedRelist.active;
  }

  /** Resolves when every in-flight cleanup finished (tests). */
  async cleanups(): Promise<void> {
    await this.parts.cleanup.settled();
  }
}
