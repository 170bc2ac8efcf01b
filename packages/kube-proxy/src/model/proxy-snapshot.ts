import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { LABEL_TOPOLOGY_ZONE } from './categorize-endpoints';
import type { EndpointInfo } from './endpoint';
import { applyEndpointsChanges, EndpointsChangeTracker } from './endpoints-change-tracker';
import type { IPFamily } from './ip-family';
import { OverlayMap } from './overlay-map';
import { applyServiceChanges, ServiceChangeTracker } from './service-change-tracker';
import type { ServicePort } from './service-port';
import {
  emptyServicePortIndexes,
  type ServicePortIndexes,
  updateServicePortIndexes,
} from './service-port-indexes';

/**
 * Everything one sync needs, frozen at the start of the sync: later events go to the
 * trackers and show up in the next snapshot, never in this one.
 */
export interface ProxySnapshot {
  readonly family: IPFamily;
  readonly nodeName: string;
  /**
   * The node's labels that rules depend on: its topology zone (`topology.kubernetes.io/zone`)
   * when it has one, as upstream's NodeTopologyConfig keeps. The same object from snapshot to
   * snapshot until that label changes.
   */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Service ports by servicePortKey. */
  readonly services: ReadonlyMap<string, ServicePort>;
  /**
   * The ports of `services` with a health check node port, by servicePortKey: what the health
   * check servers read after a sync, without scanning every Service (see ServicePortIndexes).
   */
  readonly healthCheckPorts: ReadonlyMap<string, ServicePort>;
  /** The UDP ports of `services`, by servicePortKey: the conntrack reconciler's frontends. */
  readonly udpPorts: ReadonlyMap<string, ServicePort>;
  /** Endpoints by servicePortKey. */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** "ns/name" of Services whose ports or endpoints changed since the previous snapshot. */
  readonly changedServices: ReadonlySet<string>;
  /** Slice last-change-trigger-times (ms) folded into this snapshot, for the programming-latency metric. */
  readonly lastChangeTriggerTimes: readonly number[];
  /** Service and slice events folded into this snapshot. */
  readonly serviceChanges: number;
  readonly endpointChanges: number;
}

/** Holds the trackers and the current maps for one IP family; `snapshot()` advances the state. */
export class ProxyState {
  readonly serviceChanges: ServiceChangeTracker;
  readonly endpointsChanges: EndpointsChangeTracker;
  private services: ReadonlyMap<string, ServicePort> = new Map();
  private indexes: ServicePortIndexes = emptyServicePortIndexes();
  private endpoints: ReadonlyMap<string, readonly EndpointInfo[]> = OverlayMap.empty();
  private nodeLabels: Readonly<Record<string, string>> = {};

  constructor(
    readonly family: IPFamily,
    readonly nodeName: string,
  ) {
    this.serviceChanges = new ServiceChangeTracker(family);
    this.endpointsChanges = new EndpointsChangeTracker(family, nodeName);
  }

  /** Feeds one Service event (previous undefined = add, current undefined = delete); true if a change is pending. */
  onService(previous: Wire<V1Service> | undefined, current: Wire<V1Service> | undefined): boolean {
    return this.serviceChanges.update(previous, current);
  }

  /** Feeds one EndpointSlice add/update (removed=false) or delete; true if a change is pending. */
  onEndpointSlice(slice: Wire<V1EndpointSlice>, removed: boolean): boolean {
    return this.endpointsChanges.endpointSliceUpdate(slice, removed);
  }

  /**
   * Takes the Node's labels; returns true when its topology zone changed (topology decisions may
   * change for every Service). As upstream's NodeTopologyConfig, only that label is kept and any
   * other label change is no change. Unchanged, the snapshots keep the very object they had: the
   * nftables ruleset rewrites every Service port when it differs, which a Node update without a
   * topology change (its status, another label) otherwise made the next endpoint change pay for:
   * 0.2 s and 44 MB at 5,000 Services × 50 endpoints (issue #54).
   */
  setNodeLabels(labels: Readonly<Record<string, string>>): boolean {
    const zone = labels[LABEL_TOPOLOGY_ZONE];
    if (zone === this.nodeLabels[LABEL_TOPOLOGY_ZONE]) return false;
    const topology: Record<string, string> = zone === undefined ? {} : { [LABEL_TOPOLOGY_ZONE]: zone };
    this.nodeLabels = Object.freeze(topology);
    return true;
  }

  /** How many Services have service and endpoint changes waiting for the next snapshot(). */
  pendingChanges(): { services: number; endpoints: number } {
    return { services: this.serviceChanges.pendingCount(), endpoints: this.endpointsChanges.pendingCount() };
  }

  /** Folds every pending change into the maps and returns them frozen, with what changed since the last call. */
  snapshot(): ProxySnapshot {
    const svcChanges = this.serviceChanges.checkout();
    const svc = applyServiceChanges(this.services, svcChanges);
    this.services = svc.services;
    this.indexes = updateServicePortIndexes(this.indexes, svcChanges);
    // The endpoints map holds what every earlier checkout changed: the previous endpoints.
    const epCheckout = this.endpointsChanges.checkout(this.endpoints);
    const ep = applyEndpointsChanges(this.endpoints, epCheckout.changes);
    this.endpoints = ep.endpoints;
    // Added one by one: spreading both sets built an array of every Service at start-up.
    const changed = new Set(svc.updatedServices);
    for (const s of ep.updatedServices) changed.add(s);
    const triggerTimes: number[] = [];
    for (const times of epCheckout.lastChangeTriggerTimes.values())
      for (const t of times) triggerTimes.push(t);
    return Object.freeze({
      family: this.family,
      nodeName: this.nodeName,
      nodeLabels: this.nodeLabels,
      services: this.services,
      healthCheckPorts: this.indexes.healthCheck,
      udpPorts: this.indexes.udp,
      endpoints: this.endpoints,
      changedServices: changed,
      lastChangeTriggerTimes: triggerTimes,
      serviceChanges: svcChanges.size,
      endpointChanges: epCheckout.changes.size,
    });
  }
}

/** A snapshot straight from object lists, with no history (for `render` and tests). */
export function snapshotFromObjects(opts: {
  family: IPFamily;
  nodeName: string;
  nodeLabels?: Readonly<Record<string, string>>;
  services: Iterable<Wire<V1Service>>;
  endpointSlices: Iterable<Wire<V1EndpointSlice>>;
}): ProxySnapshot {
  const state = new ProxyState(opts.family, opts.nodeName);
  for (const s of opts.services) state.onService(undefined, s);
  for (const e of opts.endpointSlices) state.onEndpointSlice(e, false);
  state.setNodeLabels(opts.nodeLabels ?? {});
  return state.snapshot();
}
