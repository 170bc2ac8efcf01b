import { type Clock, CodedError } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import { httpStatusCode } from '../api/http-status-code';
import type { Container, Pod, ResourceStatus } from '../api/pod-types';
import { everyOn } from '../clock-timers';
import type { KubeletLogger } from '../kubelet-logger';
import { type ClaimInfo, ClaimInfoCache, type ClaimInfoState, newClaimInfo } from './claim-info';
import { claimResourcesStatus, containerCdiDevices, containerClaims } from './container-claims';
import { DraCheckpoint } from './dra-checkpoint';
import { DraHealthCache } from './dra-health';
import { ANY_DRIVER, type DraMetrics, draMetrics } from './dra-metrics';
import type { DraClaimRef, DraDeviceHealthAnswer, DraPlugin, DraPluginConnector } from './dra-plugin';
import { DraPluginManager } from './dra-plugin-manager';
import {
  allocatedDrivers,
  checkClaimIsForPod,
  claimName,
  isReservedForPod,
  podResourceClaims,
  type ResourceClaim,
  ResourceClaimUseError,
} from './resource-claim';
import { type ResourceSliceApi, ResourceSliceWiper } from './resource-slice-wiper';

/** How often claims of pods no longer active are unprepared (upstream's reconcile period). */
export const DRA_RECONCILE_PERIOD_MS = 60_000;

/** Reads ResourceClaims (resource.k8s.io/v1) from the API server. */
export interface ResourceClaimApi {
  /** GET of one claim; rejects with the API error (HTTP `code` 404 when it does not exist). */
  getResourceClaim(namespace: string, name: string): Promise<ResourceClaim>;
}

/** What a DraManager is built from. */
export interface DraManagerOptions {
  /** --root-dir: the checkpoint `dra_manager_state` lives there. */
  rootDir: string;
  nodeName: string;
  claims: ResourceClaimApi;
  /** The ResourceSlices wiped at start-up and after a driver left; none: nothing is wiped. */
  slices?: ResourceSliceApi;
  connector: DraPluginConnector;
  clock: Clock;
  logger: KubeletLogger;
  registry?: Registry;
  /** ResourceHealthStatus (beta, on by default in v1.36): drivers' health streams feed container statuses. */
  resourceHealthStatus: boolean;
  /** ResourceHealthStatusMessage (beta, on by default in v1.36): the drivers' device messages in those statuses. */
  resourceHealthStatusMessage?: boolean;
  /** DRAExtendedResource (beta, on by default in v1.36): the scheduler's extended-resource claim is prepared too. */
  extendedResource: boolean;
  wipingDelayMs?: number;
  reconcilePeriodMs?: number;
  callTimeoutMs?: number;
  /** Jitter source of the wipe retries. */
  random?: () => number;
}

/** Preparing or unpreparing a pod's claims failed; the message is upstream's (the event's text). */
export class DynamicResourcesError extends CodedError {
  constructor(message: string, options?: ErrorOptions) {
    super('DRA_RESOURCES_FAILED', message, options);
  }
}

function errText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The claim as NodePrepareResources and NodeUnprepareResources name it to a driver. */
function claimRef(info: ClaimInfoState): DraClaimRef {
  return { namespace: info.namespace, uid: info.claimUid, name: info.claimName };
}

/**
 * The kubelet's DRA manager (upstream pkg/kubelet/cm/dra): prepares a pod's ResourceClaims
 * through their drivers before its sandbox starts, hands each container the CDI devices of the
 * claims it uses, unprepares once the pod's containers have stopped (or, for pods gone while the
 * kubelet was down, from the checkpoint in the reconcile loop), and reports the devices' health.
 * Its plugin handler (`plugins`) goes to the plugin manager as the DRAPlugin handler.
 */
export class DraManager {
  /** The DRAPlugin handler of the plugin manager. */
  readonly plugins: DraPluginManager;
  private readonly cache: ClaimInfoCache;
  private readonly checkpoint: DraCheckpoint;
  private readonly metrics: DraMetrics;
  private readonly health: DraHealthCache;
  private readonly wiper: ResourceSliceWiper | undefined;
  private readonly healthListeners: ((podUids: string[]) => void)[] = [];
  private sourcesReady = false;
  private readonly lookup = (name: string, namespace: string) => this.cache.get(name, namespace);
  private stopReconcile: (() => void) | undefined;

  /** Reads the checkpoint; throws CorruptDraCheckpointError for one that cannot be used (the kubelet does not start). */
  constructor(private readonly options: DraManagerOptions) {
    this.checkpoint = new DraCheckpoint(options.rootDir);
    this.cache = new ClaimInfoCache(this.checkpoint.getOrCreate());
    this.health = new DraHealthCache(options.rootDir, () => options.clock.now(), options.logger);
    this.metrics = draMetrics(options.registry, () => this.claimsInUse());
    this.wiper =
      options.slices &&
      new ResourceSliceWiper(options.slices, options.nodeName, options.clock, options.logger, options.random);
    this.plugins = new DraPluginManager({
      connector: options.connector,
      metrics: this.metrics,
      clock: options.clock,
      logger: options.logger,
      wiper: this.wiper,
      wipingDelayMs: options.wipingDelayMs,
      callTimeoutMs: options.callTimeoutMs,
      health: options.resourceHealthStatus
        ? {
            onHealth: (driver, devices) => this.onHealth(driver, devices),
            onHealthEnd: (driver) => this.health.clearDriver(driver),
          }
        : undefined,
    });
  }

  /**
   * Wipes the node's ResourceSlices in the background (no driver has registered yet) and starts
   * the reconcile loop over `activePods`, which acts only once the pod sources are ready.
   */
  start(activePods: () => Pod[]): void {
    void this.wiper?.wipe('');
    this.stopReconcile = everyOn(
      this.options.clock,
      this.options.reconcilePeriodMs ?? DRA_RECONCILE_PERIOD_MS,
      () => {
        void this.reconcile(activePods());
      },
    );
  }

  stop(): void {
    this.stopReconcile?.();
    this.stopReconcile = undefined;
    this.wiper?.stop();
    this.plugins.stop();
  }

  /** Every pod source has delivered its pods: claims of pods not among them may be unprepared. */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /** Hears the pods whose claimed devices changed health (their status is due again). */
  watchHealth(listener: (podUids: string[]) => void): void {
    this.healthListeners.push(listener);
  }

  /**
   * Upstream PrepareResources: every claim of the pod fetched and checked (reserved for the pod,
   * allocated, its drivers registered) before anything changes, then NodePrepareResources once
   * per driver for the claims not yet prepared; the CDI devices recorded and checkpointed.
   * Throws DynamicResourcesError with upstream's text ("prepare dynamic resources: …").
   */
  async prepareResources(pod: Pod): Promise<void> {
    await this.timed('PrepareResources', () => this.prepare(pod), 'prepare dynamic resources');
  }

  /** Upstream UnprepareResources: NodeUnprepareResources for the pod's claims no other pod uses. */
  async unprepareResources(pod: Pod): Promise<void> {
    await this.timed('UnprepareResources', () => this.unprepareForPod(pod), 'unprepare dynamic resources');
  }

  /** Whether pod `uid` still holds a prepared claim (upstream PodMightNeedToUnprepareResources). */
  podMightNeedToUnprepareResources(uid: string): boolean {
    return this.cache.hasPodReference(uid);
  }

  /**
   * The CDI devices of the claims `container` uses (upstream GetResources), for CRI
   * CreateContainer's CDI_devices. Throws for a claim the kubelet has not prepared.
   */
  containerCdiDevices(pod: Pod, container: Container): string[] {
    return containerCdiDevices(pod, container, this.lookup, this.options.extendedResource);
  }

  /** The prepared claims `container` uses (upstream GetContainerClaimInfos): the pod-resources API's answer. */
  containerClaims(pod: Pod, container: Container): ClaimInfoState[] {
    return containerClaims(pod, container, this.lookup);
  }

  /** The health of the devices of the claims a container uses (upstream UpdateAllocatedResourcesStatus). */
  allocatedResourcesStatus(pod: Pod, containerName: string): ResourceStatus[] | undefined {
    return claimResourcesStatus(
      pod,
      containerName,
      this.lookup,
      (driver, pool, device) => this.health.report(driver, pool, device),
      this.options.resourceHealthStatusMessage ?? true,
    );
  }

  /**
   * dra_resource_claims_in_use (upstream claimsInUse): the claims prepared in this run, by driver,
   * and over all drivers (`<any>`, always present).
   */
  claimsInUse(): Map<string, number> {
    const counts = new Map<string, number>([[ANY_DRIVER, 0]]);
    for (const info of this.cache.all()) {
      if (!info.prepared) continue;
      counts.set(ANY_DRIVER, (counts.get(ANY_DRIVER) ?? 0) + 1);
      for (const driver of info.driverState.keys()) counts.set(driver, (counts.get(driver) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Upstream reconcileLoop: once the sources are ready, the claims of pods no longer active are
   * unprepared (pods deleted while the kubelet was down, or whose unprepare failed).
   */
  async reconcile(activePods: readonly Pod[]): Promise<void> {
    if (!this.sourcesReady) return;
    const active = new Set(activePods.map((pod) => pod.metadata.uid ?? ''));
    const inactive = new Map<string, { namespace: string; claimNames: string[] }>();
    for (const info of this.cache.all())
      for (const uid of info.podUids) {
        if (active.has(uid)) continue;
        const entry = inactive.get(uid) ?? { namespace: info.namespace, claimNames: [] };
        entry.claimNames.push(info.claimName);
        inactive.set(uid, entry);
      }
    for (const [uid, { namespace, claimNames }] of inactive) {
      try {
        await this.unprepare(uid, namespace, claimNames);
      } catch (error) {
        this.options.logger.info(
          { podUID: uid, err: errText(error) },
          'Unpreparing pod resources in reconcile loop failed, will retry',
        );
      }
    }
  }

  private async timed(operation: string, run: () => Promise<void>, prefix: string): Promise<void> {
    const start = this.options.clock.now();
    let failed = false;
    try {
      await run();
    } catch (error) {
      failed = true;
      throw new DynamicResourcesError(`${prefix}: ${errText(error)}`, { cause: error });
    } finally {
      this.metrics.operationsDuration.observe(
        { operation_name: operation, is_error: String(failed) },
        (this.options.clock.now() - start) / 1000,
      );
    }
  }

  private async prepare(pod: Pod): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    // A validation pass that changes nothing: a pod that fails it can be deleted without an
    // unprepare call to a driver that may never have been on this node.
    const checked: { claim: ResourceClaim; info: ClaimInfo; plugins: Map<string, DraPlugin> }[] = [];
    for (const podClaim of podResourceClaims(pod, this.options.extendedResource)) {
      const { name, mustCheckOwner } = claimName(pod, podClaim);
      if (name === undefined) continue;
      let claim: ResourceClaim;
      try {
        claim = await this.options.claims.getResourceClaim(namespace, name);
      } catch (error) {
        const text =
          httpStatusCode(error) === 404
            ? `resourceclaims.resource.k8s.io "${name}" not found`
            : errText(error);
        throw new ResourceClaimUseError(`fetch ResourceClaim ${name}: ${text}`);
      }
      if (mustCheckOwner) checkClaimIsForPod(pod, claim);
      if (!isReservedForPod(pod, claim))
        throw new ResourceClaimUseError(
          `pod ${pod.metadata.name ?? ''} (${pod.metadata.uid ?? ''}) is not allowed to use ResourceClaim ${name} (${claim.metadata.uid ?? ''})`,
        );
      let drivers: string[];
      try {
        drivers = allocatedDrivers(claim);
      } catch (error) {
        throw new ResourceClaimUseError(`ResourceClaim ${claim.metadata.name ?? name}: ${errText(error)}`);
      }
      const info = newClaimInfo(claim.metadata.uid ?? '', claim.metadata.name ?? name, namespace, drivers);
      const plugins = new Map(drivers.map((driver) => [driver, this.plugins.getPlugin(driver)]));
      checked.push({ claim, info, plugins });
    }

    // A pod without claims changes nothing (no checkpoint write on every pod start).
    if (checked.length === 0) return;
    // Every claim to prepare is tracked (and checkpointed) with this pod before a driver is called.
    const batches = new Map<DraPlugin, DraClaimRef[]>();
    const toPrepare: ClaimInfo[] = [];
    for (const { claim, info: fresh, plugins } of checked) {
      let info = this.cache.get(fresh.claimName, namespace);
      if (!info) {
        info = fresh;
        this.cache.add(info);
      } else if (info.claimUid !== fresh.claimUid) {
        throw new ResourceClaimUseError(
          `old ResourceClaim with same name ${claim.metadata.name ?? ''} and different UID ${info.claimUid} still exists (previous pod force-deleted?!)`,
        );
      }
      info.podUids.add(pod.metadata.uid ?? '');
      this.syncToCheckpoint();
      if (info.prepared) continue;
      toPrepare.push(info);
      for (const driver of info.driverState.keys()) {
        const plugin = plugins.get(driver)!;
        batches.set(plugin, [...(batches.get(plugin) ?? []), claimRef(info)]);
      }
    }

    for (const [plugin, claims] of batches) {
      let answer: Awaited<ReturnType<DraPlugin['nodePrepareResources']>>;
      try {
        answer = await plugin.nodePrepareResources(claims);
      } catch (error) {
        throw new Error(`NodePrepareResources: ${errText(error)}`, { cause: error });
      }
      const results = Object.entries(answer.claims ?? {});
      for (const [uid, result] of results) {
        const requested = claims.find((c) => c.uid === uid);
        if (!requested) throw new Error(`NodePrepareResources returned result for unknown claim UID ${uid}`);
        if (result?.error)
          throw new Error(`NodePrepareResources failed for ResourceClaim ${requested.name}: ${result.error}`);
        const info = this.cache.get(requested.name, requested.namespace);
        if (!info)
          throw new Error(
            `internal error: unable to get claim info for ResourceClaim ${requested.name} in namespace ${requested.namespace}`,
          );
        const devices = info.driverState.get(plugin.driverName) ?? [];
        for (const device of result?.devices ?? [])
          devices.push({
            poolName: device.poolName,
            deviceName: device.deviceName,
            ...(device.shareId ? { shareId: device.shareId } : {}),
            requestNames: [...(device.requestNames ?? [])],
            cdiDeviceIds: [...(device.cdiDeviceIds ?? [])],
          });
        info.driverState.set(plugin.driverName, devices);
      }
      const unfinished = claims.length - results.length;
      if (unfinished !== 0) throw new Error(`NodePrepareResources skipped ${unfinished} ResourceClaims`);
    }
    for (const info of toPrepare) info.prepared = true;
    this.syncToCheckpoint();
  }

  private async unprepareForPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    let names = this.cache.claimNamesForPod(uid);
    // No claim recorded for the pod (a lost checkpoint): its spec names them. A name that cannot
    // be resolved (a template's claim never created) names nothing that could be prepared, so it
    // is skipped instead of failing the pod's termination for good.
    if (names.length === 0)
      names = podResourceClaims(pod, this.options.extendedResource).flatMap((podClaim) => {
        try {
          const { name } = claimName(pod, podClaim);
          return name === undefined ? [] : [name];
        } catch {
          return [];
        }
      });
    await this.unprepare(uid, pod.metadata.namespace ?? '', names);
  }

  private async unprepare(podUid: string, namespace: string, claimNames: readonly string[]): Promise<void> {
    const batches = new Map<string, DraClaimRef[]>();
    const toDelete: ClaimInfo[] = [];
    let changed = false;
    for (const name of claimNames) {
      const info = this.cache.get(name, namespace);
      if (!info) continue;
      changed = true;
      // Still used by another pod: only this pod's reference goes (checkpointed below).
      if (info.podUids.size > 1) {
        info.podUids.delete(podUid);
        continue;
      }
      toDelete.push(info);
      for (const driver of info.driverState.keys())
        batches.set(driver, [...(batches.get(driver) ?? []), claimRef(info)]);
    }
    for (const [driver, claims] of batches) {
      const plugin = this.plugins.getPlugin(driver);
      let answer: Awaited<ReturnType<DraPlugin['nodeUnprepareResources']>>;
      try {
        answer = await plugin.nodeUnprepareResources(claims);
      } catch (error) {
        throw new Error(`NodeUnprepareResources: ${errText(error)}`, { cause: error });
      }
      const results = Object.entries(answer.claims ?? {});
      for (const [uid, result] of results) {
        const requested = claims.find((c) => c.uid === uid);
        if (!requested)
          throw new Error(`NodeUnprepareResources returned result for unknown claim UID ${uid}`);
        if (result?.error)
          throw new Error(
            `NodeUnprepareResources failed for ResourceClaim ${requested.name}: ${result.error}`,
          );
      }
      const unfinished = claims.length - results.length;
      if (unfinished !== 0) throw new Error(`NodeUnprepareResources skipped ${unfinished} ResourceClaims`);
    }
    for (const info of toDelete) this.cache.delete(info.claimName, info.namespace);
    if (changed) this.syncToCheckpoint();
  }

  private syncToCheckpoint(): void {
    try {
      this.checkpoint.store(this.cache.states());
    } catch (error) {
      throw new Error(`checkpoint ResourceClaim state: ${errText(error)}`, { cause: error });
    }
  }

  private onHealth(driver: string, devices: DraDeviceHealthAnswer[]): void {
    const changed = this.health.update(driver, devices);
    if (changed.length === 0) return;
    const pods = new Set<string>();
    for (const info of this.cache.all()) {
      const held = info.driverState.get(driver) ?? [];
      if (held.some((d) => changed.some((c) => c.poolName === d.poolName && c.deviceName === d.deviceName)))
        for (const uid of info.podUids) pods.add(uid);
    }
    if (pods.size === 0) return;
    this.options.logger.info({ pods: [...pods] }, 'Sending health update notification for pods');
    for (const listener of this.healthListeners) listener([...pods]);
  }
}
