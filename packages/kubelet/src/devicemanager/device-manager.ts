import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import { type Clock, parseQuantity, systemClock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import {
  admitted,
  type PendingAdmission,
  type PodAdmitResult,
  unexpectedAdmissionErrorReason,
} from '../admission/admit-handler';
import type { PluginResourceAllocations } from '../admission/resource-fit-admit';
import type { Container, Pod, ResourceStatus } from '../api/pod-types';
import { readCheckpointFile, writeCheckpointFile } from '../cpumanager/checkpoint-file';
import type { KubeletLogger } from '../kubelet-logger';
import type { ResourceHints, TopologyHint } from '../topologymanager/topology-hint';
import type { HintProvider } from '../topologymanager/topology-manager';
import {
  type DeviceManagerCheckpoint,
  formatDeviceCheckpoint,
  parseDeviceCheckpoint,
} from './device-manager-checkpoint';
import { type DevicePluginMetrics, devicePluginMetrics } from './device-plugin-metrics';
import { DevicePluginWatcherHandler } from './device-plugin-watcher-handler';
import { deviceNumaNodes, deviceTopologyHints } from './device-topology-hints';
import {
  type ContainerAllocateResponse,
  type DevicePluginOptions,
  deviceManagerCheckpointName,
  healthyDevice,
  kubeletSocketName,
  type PluginDevice,
} from './deviceplugin-api';
import { PluginEndpoint } from './plugin-endpoint';
import {
  type DeviceAllocation,
  type DeviceRunContainerOptions,
  type DevicesPerNuma,
  deviceIdsOf,
  PodDevices,
} from './pod-devices';
import { RegistrationServer } from './registration-server';

/** @grpc/grpc-js, evaluated when a manager starts (its server and client stack cost start-up time otherwise). */
async function loadGrpcJs(): Promise<typeof GrpcJs> {
  const module = (await import('@grpc/grpc-js')) as typeof GrpcJs & { default?: typeof GrpcJs };
  return module.default ?? module;
}

/** Upstream endpointStopGracePeriod: a gone plugin's capacity stays this long before it is removed. */
export const endpointStopGracePeriodMs = 5 * 60 * 1000;

/** Upstream's fake NUMA node of a device without topology. */
const nodeWithoutTopology = -1;

/** An allocation the device manager refuses; its message is upstream's error text. */
export class DeviceAllocationError extends Error {
  readonly code = 'DEVICE_ALLOCATION_FAILED';
  constructor(
    readonly resourceName: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceAllocationError';
  }
}

/** A registered (or checkpoint-remembered) resource's plugin (upstream endpointInfo). */
interface EndpointRecord {
  endpoint: PluginEndpoint | undefined;
  options: DevicePluginOptions | undefined;
  /** When the plugin went away (or the kubelet restarted without it); undefined while connected. */
  stoppedAt: number | undefined;
}

/** One device of a resource and the NUMA nodes it sits on (empty: no topology). */
export interface DeviceInstance {
  resource: string;
  id: string;
  numaNodes: number[];
}

/** The health of the devices a container holds, for its status (ResourceHealthStatus). */
export interface DeviceHealthStatus {
  /** The health of each device the pod's container holds, by resource; undefined when it holds none. */
  allocatedResourcesStatus(podUid: string, container: string): ResourceStatus[] | undefined;
}

/** What a DeviceManager is built from. */
export interface DeviceManagerOptions {
  /** `<root-dir>/device-plugins`: the registration socket, the plugins' sockets and the checkpoint. */
  pluginDir: string;
  /** @grpc/grpc-js (default: imported when the manager starts, as the CRI client loads it on first use). */
  grpc?: typeof GrpcJs;
  /**
   * Whether freeing the devices of pods no longer active waits for markSourcesReady (upstream's
   * sourcesReady: after a restart, pods not yet delivered again must keep their devices).
   */
  waitForSources?: boolean;
  /** The machine's NUMA node IDs, for topology hints (empty: no hints). */
  numaNodes?: readonly number[];
  clock?: Clock;
  logger?: Pick<KubeletLogger, 'info' | 'warn' | 'error'>;
  registry?: Registry;
}

/** The device plugin resources a container asks for, in its limits (upstream iterates Limits only). */
function deviceLimits(container: Container): [string, number][] {
  return Object.entries(container.resources?.limits ?? {}).map(([name, value]) => [
    name,
    Math.trunc(parseQuantity(value, `resources.limits[${name}]`)),
  ]);
}

/**
 * Upstream's device manager (pkg/kubelet/cm/devicemanager): device plugins register on
 * `<root-dir>/device-plugins/kubelet.sock`; each one's ListAndWatch gives the resource's healthy
 * and unhealthy devices (Node capacity and allocatable); admission picks a container's devices
 * (a topology manager hint provider) and the plugin's Allocate answer is handed to
 * CreateContainer; what is held is checkpointed to `kubelet_internal_checkpoint`.
 *
 * Upstream's Allocate RPC runs inside admission; admission here is synchronous, so admission
 * reserves the devices and the RPCs (GetPreferredAllocation, Allocate) follow at once, before
 * the pod's worker starts: `admissionOutcome` gives their result, and a failure refuses the pod
 * with the same UnexpectedAdmissionError upstream gives.
 */
export class DeviceManager
  implements HintProvider, PluginResourceAllocations, PendingAdmission, DeviceHealthStatus
{
  readonly checkpointPath: string;
  readonly socketPath: string;
  private readonly clock: Clock;
  private readonly metrics: DevicePluginMetrics;
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly allDevices = new Map<string, Map<string, PluginDevice>>();
  private readonly healthy = new Map<string, Set<string>>();
  private readonly unhealthy = new Map<string, Set<string>>();
  /** Resources removed after their grace period: reported with capacity 0, as upstream leaves them on the Node. */
  private readonly removed = new Set<string>();
  private readonly podDevices = new PodDevices();
  /** Devices init containers held that the pod's next containers may reuse (upstream devicesToReuse). */
  private devicesToReuse: { podUid: string; byResource: Map<string, Set<string>> } | undefined;
  /** Each admitted pod's outstanding plugin calls. */
  private readonly pending = new Map<string, Promise<void>>();
  private server: RegistrationServer | undefined;
  private activePods: () => Pod[] = () => [];
  private sourcesReady: boolean;
  private grpc: typeof GrpcJs | undefined;
  private readonly healthListeners: ((podUids: string[]) => void)[] = [];

  constructor(private readonly options: DeviceManagerOptions) {
    this.checkpointPath = join(options.pluginDir, deviceManagerCheckpointName);
    this.socketPath = join(options.pluginDir, kubeletSocketName);
    this.clock = options.clock ?? systemClock;
    this.metrics = devicePluginMetrics(options.registry);
    this.sourcesReady = !options.waitForSources;
  }

  /** Every pod source has delivered its pods: devices of pods not among them may be freed. */
  markSourcesReady(): void {
    this.sourcesReady = true;
  }

  /**
   * Upstream Start: the checkpoint read (its resources remembered with no devices until their
   * plugins come back), stale sockets removed (plugins watch for this to re-register), then the
   * Registration service served.
   */
  async start(activePods: () => Pod[]): Promise<void> {
    this.activePods = activePods;
    this.grpc = this.options.grpc ?? (await loadGrpcJs());
    mkdirSync(this.options.pluginDir, { recursive: true, mode: 0o750 });
    this.readCheckpoint();
    this.removeStaleSockets();
    this.server = new RegistrationServer(
      this.grpc,
      // A Register request names its socket relative to the plugin directory.
      (request) => this.connectPlugin(request.resourceName, join(this.options.pluginDir, request.endpoint)),
      (resource) => {
        this.options.logger?.info(
          { resourceName: resource },
          'Got registration request from device plugin with resource',
        );
        this.metrics.registrations.inc({ resource_name: resource });
      },
    );
    await this.server.start(this.socketPath);
  }

  /** Upstream Stop: every plugin disconnected, the Registration service stopped. */
  stop(): void {
    for (const record of this.endpoints.values()) record.endpoint?.stop();
    this.server?.stop();
    this.server = undefined;
  }

  private removeStaleSockets(): void {
    for (const name of readdirSync(this.options.pluginDir)) {
      const path = join(this.options.pluginDir, name);
      if (path === this.checkpointPath) continue;
      try {
        if (statSync(path).isSocket()) rmSync(path, { force: true });
      } catch (error) {
        this.options.logger?.error({ err: String(error), path }, 'Failed to stat file');
      }
    }
  }

  /**
   * Upstream connectClient + PluginConnected: dial the plugin's socket, GetDevicePluginOptions,
   * then ListAndWatch. Registration through kubelet.sock and through the plugin watcher both end
   * here.
   */
  async connectPlugin(resource: string, socketPath: string): Promise<void> {
    this.grpc ??= this.options.grpc ?? (await loadGrpcJs());
    const endpoint = await PluginEndpoint.connect(this.grpc, resource, socketPath);
    let options: DevicePluginOptions;
    try {
      options = await endpoint.getDevicePluginOptions();
    } catch (error) {
      endpoint.stop();
      throw new Error(`failed to get device plugin options: ${(error as Error).message}`);
    }
    const previous = this.endpoints.get(resource);
    this.endpoints.set(resource, { endpoint, options, stoppedAt: undefined });
    this.removed.delete(resource);
    // A re-registration replaces the old connection (upstream's registerClient overwrites it).
    if (previous?.endpoint && previous.endpoint !== endpoint) previous.endpoint.stop();
    this.options.logger?.info({ resourceName: resource }, 'Device plugin connected');
    await endpoint.listAndWatch(
      (devices) => this.updateDevices(resource, devices),
      (error) => this.pluginDisconnected(resource, endpoint, error),
    );
  }

  /** Upstream disconnectClient: the plugin of `resource` is let go as if its stream had ended. */
  disconnectPlugin(resource: string): void {
    const endpoint = this.endpoints.get(resource)?.endpoint;
    if (endpoint) this.pluginDisconnected(resource, endpoint);
  }

  /**
   * The handler through which device plugins may also register in `<root-dir>/plugins_registry`
   * (upstream's GetPluginHandler), which marks that way deprecated with a `DEPRECATION` file in
   * the device plugin directory, as upstream does.
   */
  watcherHandler(): DevicePluginWatcherHandler {
    try {
      mkdirSync(this.options.pluginDir, { recursive: true, mode: 0o750 });
      writeFileSync(join(this.options.pluginDir, 'DEPRECATION'), '');
    } catch (error) {
      this.options.logger?.error(
        { err: String(error), path: this.options.pluginDir },
        'Failed to create deprecation file at socket dir',
      );
    }
    return new DevicePluginWatcherHandler(this);
  }

  /** Upstream PluginDisconnected: every device unhealthy, the stop time set (capacity kept until the grace period). */
  private pluginDisconnected(resource: string, endpoint: PluginEndpoint, error?: string): void {
    endpoint.stop();
    const record = this.endpoints.get(resource);
    if (record?.endpoint !== endpoint) return;
    const healthy = this.healthy.get(resource) ?? new Set<string>();
    const unhealthy = this.unhealthy.get(resource) ?? new Set<string>();
    for (const id of healthy) unhealthy.add(id);
    this.healthy.set(resource, new Set());
    this.unhealthy.set(resource, unhealthy);
    record.stoppedAt = this.clock.now();
    this.options.logger?.info({ resourceName: resource, err: error }, 'Endpoint became unhealthy');
  }

  /**
   * Hears the pods whose devices changed health (upstream's Updates channel, which the kubelet's
   * sync loop turns into syncs of those pods, so their allocatedResourcesStatus goes out).
   */
  watchHealth(listener: (podUids: string[]) => void): void {
    this.healthListeners.push(listener);
  }

  /** The pods holding a device of `resource` whose health differs between `before` and `after`. */
  private podsWithHealthChange(
    resource: string,
    before: ReadonlyMap<string, PluginDevice> | undefined,
    after: ReadonlyMap<string, PluginDevice>,
  ): string[] {
    const changed = new Set<string>();
    for (const { podUid, resource: held, allocation } of this.podDevices.entries()) {
      if (held !== resource) continue;
      for (const id of deviceIdsOf(allocation.devicesPerNuma))
        if (before?.get(id)?.health !== after.get(id)?.health) changed.add(podUid);
    }
    return [...changed];
  }

  /** Upstream genericDeviceUpdateCallback: the plugin's full list replaces the resource's devices. */
  private updateDevices(resource: string, devices: readonly PluginDevice[]): void {
    const all = new Map<string, PluginDevice>();
    const healthy = new Set<string>();
    const unhealthy = new Set<string>();
    for (const device of devices) {
      all.set(device.ID, device);
      (device.health === healthyDevice ? healthy : unhealthy).add(device.ID);
    }
    const changedPods = this.podsWithHealthChange(resource, this.allDevices.get(resource), all);
    this.allDevices.set(resource, all);
    this.healthy.set(resource, healthy);
    this.unhealthy.set(resource, unhealthy);
    this.writeCheckpoint();
    this.options.logger?.info(
      { resourceName: resource, totalCount: devices.length, healthyCount: healthy.size },
      'Processed device updates for resource',
    );
    if (changedPods.length > 0) for (const listener of this.healthListeners) listener(changedPods);
  }

  /**
   * Upstream GetCapacity: each resource's devices (healthy and unhealthy) as capacity, its healthy
   * ones as allocatable; a resource whose plugin has been gone longer than the grace period is
   * dropped and reported with 0 from then on, as upstream leaves it on the Node.
   */
  getCapacity(): { capacity: Record<string, string>; allocatable: Record<string, string> } {
    const now = this.clock.now();
    let changed = false;
    for (const [resource, record] of this.endpoints) {
      if (record.stoppedAt === undefined || now - record.stoppedAt <= endpointStopGracePeriodMs) continue;
      this.endpoints.delete(resource);
      this.healthy.delete(resource);
      this.unhealthy.delete(resource);
      this.allDevices.delete(resource);
      this.removed.add(resource);
      changed = true;
    }
    if (changed) this.writeCheckpoint();
    const capacity: Record<string, string> = {};
    const allocatable: Record<string, string> = {};
    for (const resource of this.removed) {
      capacity[resource] = '0';
      allocatable[resource] = '0';
    }
    for (const [resource, healthy] of this.healthy) {
      capacity[resource] = String(healthy.size + (this.unhealthy.get(resource)?.size ?? 0));
      allocatable[resource] = String(healthy.size);
    }
    return { capacity, allocatable };
  }

  /** Every healthy device with its NUMA nodes (upstream GetAllocatableDevices). */
  allocatableDevices(): DeviceInstance[] {
    const out: DeviceInstance[] = [];
    for (const [resource, ids] of this.healthy) {
      const all = this.allDevices.get(resource);
      for (const id of ids) out.push({ resource, id, numaNodes: deviceNumaNodes(all?.get(id)) });
    }
    return out;
  }

  /** The container's devices with the NUMA nodes each was allocated on (upstream GetDevices). */
  containerDevices(podUid: string, container: string): DeviceInstance[] {
    const out: DeviceInstance[] = [];
    for (const [resource, allocation] of this.podDevices.containerResources(podUid, container)) {
      const nodes = new Map<string, number[]>();
      for (const [node, ids] of allocation.devicesPerNuma)
        for (const id of ids) {
          const list = nodes.get(id) ?? [];
          if (node !== nodeWithoutTopology) list.push(node);
          nodes.set(id, list);
        }
      for (const [id, numaNodes] of nodes) out.push({ resource, id, numaNodes });
    }
    return out;
  }

  /**
   * Upstream UpdateAllocatedResourcesStatus for one container: each resource it holds with its
   * devices' health as the plugin last reported it (Healthy when the plugin no longer lists the
   * device, as upstream defaults it), resources and devices sorted; undefined when it holds none.
   */
  allocatedResourcesStatus(podUid: string, container: string): ResourceStatus[] | undefined {
    const held = this.podDevices.containerResources(podUid, container);
    if (held.size === 0) return undefined;
    return [...held.keys()].sort().map((resource) => ({
      name: resource,
      resources: [...deviceIdsOf(held.get(resource)!.devicesPerNuma)].sort().map((id) => ({
        resourceID: id,
        health:
          (this.allDevices.get(resource)?.get(id)?.health ?? healthyDevice) === healthyDevice
            ? 'Healthy'
            : 'Unhealthy',
      })),
    }));
  }

  /** The devices given out (or reserved), counted by resource (upstream's allocatedDevices). */
  allocatedCounts(): Record<string, number> {
    return Object.fromEntries([...this.allocatedDevices()].map(([resource, ids]) => [resource, ids.size]));
  }

  private isDevicePluginResource(resource: string): boolean {
    return this.healthy.has(resource) || this.allocatedDevices().has(resource);
  }

  private allocatedDevices(): Map<string, Set<string>> {
    return this.podDevices.devices();
  }

  /**
   * Upstream UpdateAllocatedDevices: devices of pods no longer active are freed, once the pod
   * sources are ready; `admitting` (the pod being admitted, active in upstream's pod manager by
   * then) keeps its own.
   */
  private updateAllocatedDevices(admitting?: string): void {
    if (!this.sourcesReady) return;
    const active = new Set(this.activePods().map((pod) => pod.metadata.uid ?? ''));
    let changed = false;
    for (const uid of this.podDevices.podUids())
      if (!active.has(uid) && !this.pending.has(uid) && uid !== admitting) {
        this.podDevices.deletePod(uid);
        changed = true;
      }
    if (changed) this.writeCheckpoint();
  }

  // Topology hints (upstream topology_hints.go), in device-topology-hints.ts.
  getTopologyHints(pod: Pod, container: Container): ResourceHints {
    return this.hintsFor(pod, [container]);
  }

  getPodTopologyHints(pod: Pod): ResourceHints {
    return this.hintsFor(pod, [...(pod.spec.initContainers ?? []), ...pod.spec.containers]);
  }

  private hintsFor(pod: Pod, containers: readonly Container[]): ResourceHints {
    const numaNodes = this.options.numaNodes ?? [];
    if (numaNodes.length === 0) return undefined;
    const uid = pod.metadata.uid ?? '';
    const requests = new Map<string, number>();
    for (const container of containers)
      for (const [resource, count] of deviceLimits(container))
        if (this.healthy.has(resource) && count > 0)
          requests.set(resource, Math.max(requests.get(resource) ?? 0, count));
    if (requests.size === 0) return undefined;
    this.updateAllocatedDevices(uid);
    const allocated = this.allocatedDevices();
    const hints: Record<string, TopologyHint[] | undefined> = {};
    for (const [resource, count] of requests) {
      const held = containers.flatMap((c) => [
        ...(this.podDevices.containerDevices(uid, c.name, resource) ?? []),
      ]);
      const free = [...(this.healthy.get(resource) ?? [])].filter(
        (id) => !allocated.get(resource)?.has(id) || held.includes(id),
      );
      hints[resource] = deviceTopologyHints({
        devices: this.allDevices.get(resource) ?? new Map(),
        healthy: this.healthy.get(resource) ?? new Set(),
        available: held.length > 0 ? held : free,
        request: count,
        numaNodes,
      });
    }
    return hints;
  }

  /**
   * Upstream Allocate for one container at admission: the devices chosen and reserved now (init
   * containers' devices reused by the containers after them), the plugin calls queued for the pod.
   * Throws DeviceAllocationError with upstream's text, which the topology manager turns into
   * UnexpectedAdmissionError "Allocate failed due to …, which is unexpected".
   */
  allocate(pod: Pod, container: Container, affinity: TopologyHint): void {
    const uid = pod.metadata.uid ?? '';
    if (this.devicesToReuse?.podUid !== uid) this.devicesToReuse = { podUid: uid, byResource: new Map() };
    const reuse = this.devicesToReuse.byResource;
    const isInit = (pod.spec.initContainers ?? []).find((c) => c.name === container.name);
    this.allocateContainer(pod, container, reuse, affinity);
    const held = this.podDevices.containerResources(uid, container.name);
    for (const [resource, allocation] of held) {
      const ids = deviceIdsOf(allocation.devicesPerNuma);
      if (isInit && isInit.restartPolicy !== 'Always') {
        // A non-restartable init container's devices go to the containers after it.
        const set = reuse.get(resource) ?? new Set<string>();
        for (const id of ids) set.add(id);
        reuse.set(resource, set);
      } else for (const id of ids) reuse.get(resource)?.delete(id);
    }
  }

  private allocateContainer(
    pod: Pod,
    container: Container,
    reuse: Map<string, Set<string>>,
    affinity: TopologyHint,
  ): void {
    const uid = pod.metadata.uid ?? '';
    let updated = false;
    for (const [resource, needed] of deviceLimits(container)) {
      if (!this.isDevicePluginResource(resource)) continue;
      if (!updated) {
        this.updateAllocatedDevices(uid);
        updated = true;
      }
      const chosen = this.devicesToAllocate(
        uid,
        container.name,
        resource,
        needed,
        reuse.get(resource) ?? new Set(),
        affinity,
      );
      if (!chosen) continue;
      const reserved: DeviceAllocation = {
        devicesPerNuma: this.perNuma(resource, chosen),
        response: undefined,
      };
      this.podDevices.insert(uid, container.name, resource, reserved);
      this.queue(uid, () =>
        this.completeAllocation(uid, container.name, resource, needed, reserved, reuse.get(resource)),
      );
    }
  }

  /** Upstream devicesToAllocate, without the plugin's preference (asked in completeAllocation). */
  private devicesToAllocate(
    podUid: string,
    container: string,
    resource: string,
    required: number,
    reusable: Set<string>,
    affinity: TopologyHint,
  ): string[] | undefined {
    const existing = this.podDevices.containerDevices(podUid, container, resource);
    if (existing) {
      if (existing.size !== required)
        throw new DeviceAllocationError(
          resource,
          `pod "${podUid}" container "${container}" changed request for resource "${resource}" from ${existing.size} to ${required}`,
        );
      // Held already (the kubelet restarted with the container's devices checkpointed).
      return undefined;
    }
    const healthy = this.healthy.get(resource);
    if (!healthy)
      throw new DeviceAllocationError(resource, `cannot allocate unregistered device ${resource}`);
    if (healthy.size === 0)
      throw new DeviceAllocationError(
        resource,
        `no healthy devices present; cannot allocate unhealthy devices ${resource}`,
      );
    if (required === 0) return undefined;
    const chosen: string[] = [];
    for (const id of reusable) if (chosen.length < required) chosen.push(id);
    if (chosen.length === required) return chosen;
    const inUse = this.allocatedDevices().get(resource) ?? new Set<string>();
    const available = [...healthy].filter((id) => !inUse.has(id) && !chosen.includes(id));
    const needed = required - chosen.length;
    if (available.length < needed)
      throw new DeviceAllocationError(
        resource,
        `requested number of devices unavailable for ${resource}. Requested: ${needed}, Available: ${available.length}`,
      );
    // Upstream filterByAffinity: devices on the hint's NUMA nodes first, then others, then those without topology.
    const rank = (id: string) => {
      const nodes = (this.allDevices.get(resource)?.get(id)?.topology?.nodes ?? []).map((n) =>
        Number(n.ID ?? 0),
      );
      if (nodes.length === 0) return 2;
      return affinity.affinity && nodes.some((n) => affinity.affinity!.has(n)) ? 0 : 1;
    };
    const ordered = [...available].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return [...chosen, ...ordered.slice(0, needed)];
  }

  private perNuma(resource: string, ids: readonly string[]): DevicesPerNuma {
    const perNuma: DevicesPerNuma = new Map();
    for (const id of ids) {
      const nodes = this.allDevices.get(resource)?.get(id)?.topology?.nodes ?? [];
      const keys = nodes.length === 0 ? [nodeWithoutTopology] : nodes.map((n) => Number(n.ID ?? 0));
      for (const key of keys) perNuma.set(key, [...(perNuma.get(key) ?? []), id]);
    }
    return perNuma;
  }

  private queue(podUid: string, step: () => Promise<void>): void {
    const previous = this.pending.get(podUid) ?? Promise.resolve();
    this.pending.set(podUid, previous.then(step));
  }

  /**
   * The plugin calls for one reserved allocation: GetPreferredAllocation when the plugin offers
   * it (its choice taken among the reserved and still-free devices), then Allocate, timed into
   * kubelet_device_plugin_alloc_duration_seconds; the answer is checkpointed.
   */
  private async completeAllocation(
    podUid: string,
    container: string,
    resource: string,
    required: number,
    reserved: DeviceAllocation,
    reusable: Set<string> | undefined,
  ): Promise<void> {
    const record = this.endpoints.get(resource);
    if (!record?.endpoint || record.stoppedAt !== undefined)
      throw new DeviceAllocationError(resource, `unknown Device Plugin ${resource}`);
    let ids = [...deviceIdsOf(reserved.devicesPerNuma)];
    const mustInclude = ids.filter((id) => reusable?.has(id));
    if (record.options?.getPreferredAllocationAvailable && mustInclude.length < required) {
      const inUse = this.allocatedDevices().get(resource) ?? new Set<string>();
      const free = [...(this.healthy.get(resource) ?? [])].filter((id) => !inUse.has(id));
      const available = [...new Set([...ids, ...free])];
      let preferred: string[];
      try {
        preferred = await record.endpoint.getPreferredAllocation(available, mustInclude, required);
      } catch (error) {
        throw new DeviceAllocationError(
          resource,
          `device plugin GetPreferredAllocation rpc failed with err: ${(error as Error).message}`,
        );
      }
      const stillFree = new Set([
        ...ids,
        ...free.filter((id) => !(this.allocatedDevices().get(resource)?.has(id) ?? false)),
      ]);
      const picked = [...mustInclude];
      for (const id of [...preferred, ...ids])
        if (picked.length < required && stillFree.has(id) && !picked.includes(id)) picked.push(id);
      ids = picked;
      reserved.devicesPerNuma = this.perNuma(resource, ids);
    }
    const started = this.clock.now();
    let response: { containerResponses: ContainerAllocateResponse[] };
    try {
      response = await record.endpoint.allocate(ids);
    } finally {
      this.metrics.allocDuration.observe({ resource_name: resource }, (this.clock.now() - started) / 1000);
    }
    const first = response.containerResponses[0];
    if (!first) throw new DeviceAllocationError(resource, 'no containers return in allocation response');
    reserved.response = first;
    // The pod may have gone meanwhile; its reservation is then already released.
    if (this.podDevices.get(podUid, container, resource) === reserved) this.writeCheckpoint();
  }

  /**
   * The result of the pod's plugin calls made for its admission: admitted, or refused with
   * upstream's UnexpectedAdmissionError (its reservations released); undefined when the pod made
   * none.
   */
  admissionOutcome(podUid: string): Promise<PodAdmitResult> | undefined {
    const pending = this.pending.get(podUid);
    if (!pending) return undefined;
    return pending.then(
      () => {
        if (this.pending.get(podUid) === pending) this.pending.delete(podUid);
        return admitted;
      },
      (error: Error) => {
        if (this.pending.get(podUid) === pending) this.pending.delete(podUid);
        this.podDevices.deletePod(podUid);
        this.writeCheckpoint();
        return {
          admit: false,
          reason: unexpectedAdmissionErrorReason,
          message: `Allocate failed due to ${error.message}, which is unexpected`,
        };
      },
    );
  }

  /**
   * Upstream GetDeviceRunContainerOptions for CreateContainer: the pod's outstanding calls
   * awaited, PreStartContainer called for each resource whose plugin asks for it, then the
   * container's envs, mounts, devices, annotations and CDI devices; undefined when it holds none.
   */
  async runContainerOptions(
    podUid: string,
    container: string,
  ): Promise<DeviceRunContainerOptions | undefined> {
    await this.pending.get(podUid)?.catch(() => undefined);
    for (const [resource, allocation] of this.podDevices.containerResources(podUid, container)) {
      const record = this.endpoints.get(resource);
      if (!record)
        throw new DeviceAllocationError(
          resource,
          `endpoint not found in cache for a registered resource: ${resource}`,
        );
      if (!record.options?.preStartRequired) continue;
      if (!record.endpoint || record.stoppedAt !== undefined)
        throw new DeviceAllocationError(
          resource,
          `device plugin PreStartContainer rpc failed with err: endpoint ${resource} has been stopped`,
        );
      try {
        await record.endpoint.preStartContainer([...deviceIdsOf(allocation.devicesPerNuma)]);
      } catch (error) {
        throw new DeviceAllocationError(
          resource,
          `device plugin PreStartContainer rpc failed with err: ${(error as Error).message}`,
        );
      }
    }
    return this.podDevices.runContainerOptions(podUid, container);
  }

  /** Upstream writeCheckpoint: allocations with an answer, and each resource's healthy devices. */
  private writeCheckpoint(): void {
    const checkpoint: DeviceManagerCheckpoint = {
      entries: this.podDevices.entries().flatMap(({ podUid, container, resource, allocation }) =>
        allocation.response
          ? [
              {
                podUid,
                container,
                resource,
                devicesPerNuma: allocation.devicesPerNuma,
                response: allocation.response,
              },
            ]
          : [],
      ),
      registeredDevices: new Map([...this.healthy].map(([resource, ids]) => [resource, [...ids]])),
    };
    try {
      writeCheckpointFile(this.checkpointPath, formatDeviceCheckpoint(checkpoint));
    } catch (error) {
      this.options.logger?.error({ err: String(error) }, 'Failed to write checkpoint file');
    }
  }

  /** Upstream readCheckpoint: allocations restored; resources remembered with no devices and a stopped endpoint. */
  private readCheckpoint(): void {
    const text = readCheckpointFile(this.checkpointPath);
    if (text === undefined) return;
    let checkpoint: DeviceManagerCheckpoint;
    try {
      checkpoint = parseDeviceCheckpoint(text, this.checkpointPath);
    } catch (error) {
      this.options.logger?.error(
        { err: (error as Error).message },
        'Continue after failing to read checkpoint file. Device allocation info may NOT be up-to-date',
      );
      return;
    }
    for (const entry of checkpoint.entries)
      this.podDevices.insert(entry.podUid, entry.container, entry.resource, {
        devicesPerNuma: entry.devicesPerNuma,
        response: entry.response,
      });
    const now = this.clock.now();
    for (const resource of checkpoint.registeredDevices.keys()) {
      this.healthy.set(resource, new Set());
      this.unhealthy.set(resource, new Set());
      this.endpoints.set(resource, { endpoint: undefined, options: undefined, stoppedAt: now });
    }
  }
}
