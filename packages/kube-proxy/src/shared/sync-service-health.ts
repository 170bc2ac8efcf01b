import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { ServiceHealthServer } from '../runtime/service-health-server';

/**
 * Points the healthCheckNodePort servers at a sync's snapshot: one server per Service that has
 * a health check node port, each reporting that Service's ready local endpoints (the most of
 * any of its ports). Every proxier mode does this after applying its rules.
 */
export async function syncServiceHealth(server: ServiceHealthServer, snapshot: ProxySnapshot): Promise<void> {
  const ports = new Map<string, number>();
  const local = new Map<string, number>();
  // The snapshot's index of such ports: scanning every Service was O(cluster) per sync (#54).
  for (const [key, sp] of snapshot.healthCheckPorts) {
    ports.set(sp.service, sp.healthCheckNodePort);
    const cat = categorizeEndpoints(
      snapshot.endpoints.get(key) ?? [],
      sp,
      snapshot.nodeName,
      snapshot.nodeLabels,
    );
    const ready = cat.localEndpoints.filter((e) => e.ready).length;
    local.set(sp.service, Math.max(local.get(sp.service) ?? 0, ready));
  }
  await server.syncServices(ports, snapshot.family);
  server.syncEndpoints(local, snapshot.family);
}
