import { OverlayMap } from './overlay-map';
import type { ServiceChange } from './service-change-tracker';
import type { ServicePort } from './service-port';

/**
 * The service ports that the work after every sync reads, kept up to date as Services change
 * (issue #54): the health check node port servers need the ports with a healthCheckNodePort, the
 * conntrack reconciler the UDP ones. Both scanned every Service port at every sync, an endpoint
 * change included (44k ports at 44k Services, and an [key, value] array per entry); each index
 * is an OverlayMap version, so a snapshot costs what the Service changes touched, and nothing
 * when only endpoints changed. Upstream scans its svcPortMap (HealthCheckNodePorts) instead.
 */
export interface ServicePortIndexes {
  /** Ports with a health check node port, by servicePortKey. */
  readonly healthCheck: ReadonlyMap<string, ServicePort>;
  /** UDP ports, by servicePortKey. */
  readonly udp: ReadonlyMap<string, ServicePort>;
}

const hasHealthCheck = (sp: ServicePort) => sp.healthCheckNodePort !== 0;
const isUdp = (sp: ServicePort) => sp.protocol === 'UDP';

/** Indexes of a map with no Service ports. */
export function emptyServicePortIndexes(): ServicePortIndexes {
  return { healthCheck: OverlayMap.empty(), udp: OverlayMap.empty() };
}

/** The indexes after `changes` (ServiceChangeTracker.checkout); unchanged maps stay the same objects. */
export function updateServicePortIndexes(
  indexes: ServicePortIndexes,
  changes: ReadonlyMap<string, ServiceChange>,
): ServicePortIndexes {
  if (changes.size === 0) return indexes;
  return {
    healthCheck: updated(indexes.healthCheck, changes, hasHealthCheck),
    udp: updated(indexes.udp, changes, isUdp),
  };
}

function updated(
  index: ReadonlyMap<string, ServicePort>,
  changes: ReadonlyMap<string, ServiceChange>,
  keep: (sp: ServicePort) => boolean,
): ReadonlyMap<string, ServicePort> {
  const current = index instanceof OverlayMap ? index : OverlayMap.from(index);
  return current.withChanges((draft) => {
    for (const change of changes.values()) {
      for (const key of change.previous.keys()) if (!change.current.has(key)) draft.delete(key);
      // A delete of a key the index does not hold is no edit (a port that never qualified).
      for (const [key, sp] of change.current) {
        if (keep(sp)) draft.set(key, sp);
        else draft.delete(key);
      }
    }
  });
}
