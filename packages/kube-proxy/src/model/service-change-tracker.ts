import type { V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import type { IPFamily } from './ip-family';
import { type ServicePort, servicePortsEqual, servicePortsFromService } from './service-port';

/** The ports of one Service before the first pending change and after the latest one. */
export interface ServiceChange {
  readonly previous: ReadonlyMap<string, ServicePort>;
  readonly current: ReadonlyMap<string, ServicePort>;
}

/** The result of applyServiceChanges: the new service port map and the Services it changed. */
export interface ServiceMapUpdate {
  /** The new map; the input map is not modified. */
  readonly services: ReadonlyMap<string, ServicePort>;
  /** "ns/name" of every Service whose ports changed. */
  readonly updatedServices: ReadonlySet<string>;
}

/** The ports of a Service that did not exist before (never written to). */
const NO_PORTS: ReadonlyMap<string, ServicePort> = new Map();

function serviceKey(svc: Wire<V1Service>): string {
  return `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
}

function mapsEqual(a: ReadonlyMap<string, ServicePort>, b: ReadonlyMap<string, ServicePort>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !servicePortsEqual(v, w)) return false;
  }
  return true;
}

/**
 * Accumulates Service add/update/delete events between syncs, per Service, collapsing
 * several events into one previous→current change and forgetting changes that cancel out.
 */
export class ServiceChangeTracker {
  private pending = new Map<
    string,
    { previous: ReadonlyMap<string, ServicePort>; current: ReadonlyMap<string, ServicePort> }
  >();

  constructor(readonly family: IPFamily) {}

  /** Records an event (previous undefined = add, current undefined = delete). Returns true if changes are pending. */
  update(previous: Wire<V1Service> | undefined, current: Wire<V1Service> | undefined): boolean {
    const svc = current ?? previous;
    if (!svc) return this.pending.size > 0;
    const key = serviceKey(svc);
    const ports = servicePortsFromService(current, this.family);
    let change = this.pending.get(key);
    if (!change) {
      // An added Service had no ports: the shared empty map, not one per Service at start-up.
      const before = previous ? servicePortsFromService(previous, this.family) : NO_PORTS;
      change = { previous: before, current: ports };
      this.pending.set(key, change);
    }
    change.current = ports;
    if (mapsEqual(change.previous, change.current)) this.pending.delete(key);
    return this.pending.size > 0;
  }

  /** Services whose ports differ between their previous and current state, not yet checked out. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Hands over the pending changes and starts a new batch. */
  checkout(): Map<string, ServiceChange> {
    const out = this.pending;
    this.pending = new Map();
    return out;
  }
}

/** Applies checked-out changes to a service port map, copy-on-write. */
export function applyServiceChanges(
  services: ReadonlyMap<string, ServicePort>,
  changes: ReadonlyMap<string, ServiceChange>,
): ServiceMapUpdate {
  if (changes.size === 0) return { services, updatedServices: new Set() };
  const next = new Map(services);
  const updatedServices = new Set<string>();
  for (const [svcKey, change] of changes) {
    updatedServices.add(svcKey);
    for (const portKey of change.previous.keys()) if (!change.current.has(portKey)) next.delete(portKey);
    for (const [portKey, sp] of change.current) next.set(portKey, sp);
  }
  return { services: next, updatedServices };
}
