import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { compareStrings } from './compare-strings';
import {
  type EndpointInfo,
  lastChangeTriggerTime,
  mergeSliceEndpoints,
  type SliceEndpoints,
  serviceOfSlice,
  sliceEndpoints,
} from './endpoint';
import type { IPFamily } from './ip-family';
import { OverlayMap } from './overlay-map';

/** Endpoints of one Service (per port key) before and after the pending slice changes. */
export interface EndpointsChange {
  readonly previous: ReadonlyMap<string, readonly EndpointInfo[]>;
  readonly current: ReadonlyMap<string, readonly EndpointInfo[]>;
}

/** What EndpointsChangeTracker.checkout returns: the Services whose endpoints changed since the last one. */
export interface EndpointsCheckout {
  /** Per "ns/name" Service whose endpoints really changed. */
  readonly changes: Map<string, EndpointsChange>;
  /** last-change-trigger-time annotations (ms) of the slices behind the changes, per Service. */
  readonly lastChangeTriggerTimes: Map<string, number[]>;
}

/** The result of applyEndpointsChanges: the new endpoints map and the Services it changed. */
export interface EndpointsMapUpdate {
  /** Endpoints per service port key after the changes (a new map; the input is unchanged). */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** "ns/name" of every Service whose endpoints changed. */
  readonly updatedServices: ReadonlySet<string>;
}

function stringListsEqual(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Field by field: two JSON.stringify texts per list were most of a change's checkout garbage. */
function endpointInfoEqual(a: EndpointInfo, b: EndpointInfo): boolean {
  return (
    a.ip === b.ip &&
    a.port === b.port &&
    a.isLocal === b.isLocal &&
    a.ready === b.ready &&
    a.serving === b.serving &&
    a.terminating === b.terminating &&
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    stringListsEqual(a.zoneHints, b.zoneHints) &&
    stringListsEqual(a.nodeHints, b.nodeHints)
  );
}

function endpointListsEqual(a: readonly EndpointInfo[], b: readonly EndpointInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!endpointInfoEqual(a[i]!, b[i]!)) return false;
  return true;
}

function endpointMapsEqual(
  a: ReadonlyMap<string, readonly EndpointInfo[]>,
  b: ReadonlyMap<string, readonly EndpointInfo[]>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !endpointListsEqual(v, w)) return false;
  }
  return true;
}

/**
 * The slices of a Service seen for the first time, and its endpoints before them (or a slice's
 * with none): one shared empty map each instead of two per Service at start-up (88k at 44k
 * Services). Never written to.
 */
const NO_SLICES: ReadonlyMap<string, SliceEndpoints> = new Map();
const NO_ENDPOINTS: SliceEndpoints = new Map();

/**
 * Caches each EndpointSlice's endpoints per Service and tracks which Services' endpoints
 * changed since the last checkout. Slices of the other IP family or without a service-name
 * label are ignored. A slice is read once, when it arrives (as upstream's EndpointSliceCache
 * converts it in updatePending): the tracker keeps its EndpointInfo lists (the same lists the
 * endpoints map holds for a one-slice Service), not the slice. So a decoded slice is garbage
 * right after its event (at start-up, before it outlives a young-generation collection), the
 * informer need not keep a slice's endpoints (watchCluster's store does not), and a Service's
 * other slices are not converted again when one of them changes.
 */
export class EndpointsChangeTracker {
  /** Endpoints of each slice as of the last checkout, per Service then slice name. */
  private readonly applied = new Map<string, Map<string, SliceEndpoints>>();
  /** Slices' endpoints updated since the last checkout (null = the slice was deleted). */
  private pending = new Map<string, Map<string, SliceEndpoints | null>>();
  private triggerTimes = new Map<string, number[]>();

  constructor(
    readonly family: IPFamily,
    /** Our node name, to mark endpoints local. */
    readonly nodeName: string,
  ) {}

  /** Records a slice add/update (removed=false) or delete (removed=true). Returns true if changes are pending. */
  endpointSliceUpdate(slice: Wire<V1EndpointSlice>, removed: boolean): boolean {
    const svc = serviceOfSlice(slice);
    if (!svc || slice.addressType !== this.family) return this.pending.size > 0;
    const name = slice.metadata?.name ?? '';
    let byName = this.pending.get(svc);
    if (!byName) {
      byName = new Map();
      this.pending.set(svc, byName);
    }
    byName.set(name, removed ? null : this.convert(slice));
    const t = removed ? undefined : lastChangeTriggerTime(slice);
    if (t !== undefined) {
      const list = this.triggerTimes.get(svc) ?? [];
      list.push(t);
      this.triggerTimes.set(svc, list);
    }
    return true;
  }

  /** Services with slice updates not yet checked out (some may turn out to change nothing). */
  pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Folds pending slice updates into the cache and returns the Services whose endpoints changed.
   * `held`: the endpoints per port key as every earlier checkout's changes left them (ProxyState's
   * map); a changed Service's previous endpoints are then looked up there instead of being built
   * again from its old slices (ten endpoint objects, their maps and a sort per one-slice change).
   */
  checkout(held?: ReadonlyMap<string, readonly EndpointInfo[]>): EndpointsCheckout {
    const changes = new Map<string, EndpointsChange>();
    const lastChangeTriggerTimes = new Map<string, number[]>();
    for (const [svc, updates] of this.pending) {
      const before = this.applied.get(svc) ?? NO_SLICES;
      const after = before.size === 0 ? firstSlices(updates) : folded(before, updates);
      if (after.size === 0) this.applied.delete(svc);
      else this.applied.set(svc, after);
      const previous = held ? heldEndpoints(before, held) : merged(before);
      const current = merged(after);
      if (endpointMapsEqual(previous, current)) continue;
      changes.set(svc, { previous, current });
      const times = this.triggerTimes.get(svc);
      if (times) lastChangeTriggerTimes.set(svc, times);
    }
    this.pending = new Map();
    this.triggerTimes = new Map();
    return { changes, lastChangeTriggerTimes };
  }

  /** A slice's endpoints as the cache keeps them. */
  private convert(slice: Wire<V1EndpointSlice>): SliceEndpoints {
    const lists = sliceEndpoints(slice, this.family, this.nodeName);
    return lists.size === 0 ? NO_ENDPOINTS : lists;
  }
}

/**
 * A Service seen for the first time: its pending map (dropped at checkout) becomes its cache
 * map, deletions left out, sparing a Map per Service at start-up. A Map may be written during
 * its own iteration.
 */
function firstSlices(updates: Map<string, SliceEndpoints | null>): Map<string, SliceEndpoints> {
  for (const [name, lists] of updates) if (lists === null) updates.delete(name);
  return updates as Map<string, SliceEndpoints>;
}

/** A copy of a Service's cached slices with its pending updates folded in. */
function folded(
  before: ReadonlyMap<string, SliceEndpoints>,
  updates: ReadonlyMap<string, SliceEndpoints | null>,
): Map<string, SliceEndpoints> {
  const after = new Map(before);
  for (const [name, lists] of updates) {
    if (lists === null) after.delete(name);
    else after.set(name, lists);
  }
  return after;
}

/**
 * A Service's slices merged (mergeSliceEndpoints) in slice-name order, as endpointsFromSlices
 * visits them.
 */
function merged(slices: ReadonlyMap<string, SliceEndpoints>): SliceEndpoints {
  if (slices.size === 0) return NO_ENDPOINTS;
  if (slices.size === 1) for (const only of slices.values()) return only;
  const names = [...slices.keys()].sort(compareStrings);
  return mergeSliceEndpoints(names.map((name) => slices.get(name)!));
}

/**
 * What the checkout that cached `slices` made of them, read back from `held`: the port keys
 * their endpoints are under (a port with no endpoints of this family was never set).
 */
function heldEndpoints(
  slices: ReadonlyMap<string, SliceEndpoints>,
  held: ReadonlyMap<string, readonly EndpointInfo[]>,
): SliceEndpoints {
  if (slices.size === 0) return NO_ENDPOINTS;
  const out = new Map<string, readonly EndpointInfo[]>();
  for (const lists of slices.values()) {
    for (const key of lists.keys()) {
      const eps = held.get(key);
      if (eps !== undefined) out.set(key, eps);
    }
  }
  return out;
}

/**
 * Applies checked-out changes to an endpoints map (per service port key). The input map is not
 * modified: the result is a new OverlayMap version, which costs what changed, not the map's size.
 */
export function applyEndpointsChanges(
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>,
  changes: ReadonlyMap<string, EndpointsChange>,
): EndpointsMapUpdate {
  if (changes.size === 0) return { endpoints, updatedServices: new Set() };
  const current = endpoints instanceof OverlayMap ? endpoints : OverlayMap.from(endpoints);
  const updatedServices = new Set<string>();
  const next = current.withChanges((draft) => {
    for (const [svc, change] of changes) {
      updatedServices.add(svc);
      for (const key of change.previous.keys()) if (!change.current.has(key)) draft.delete(key);
      for (const [key, eps] of change.current) draft.set(key, eps);
    }
  });
  return { endpoints: next, updatedServices };
}
