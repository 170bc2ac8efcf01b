import type { EndpointInfo } from './endpoint';
import { type ServicePort, usesClusterEndpoints, usesLocalEndpoints } from './service-port';

/** The node label naming its zone: matched against endpoints' zone hints (topology-aware routing). */
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
/** The well-known node hostname label; here it names the node-hint topology mode. */
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

/** One service port's endpoints, sorted by the traffic policy that may use them (upstream's CategorizeEndpoints). */
export interface CategorizedEndpoints {
  /** Endpoints for traffic with Cluster policy (topology-filtered when hints allow). */
  readonly clusterEndpoints: readonly EndpointInfo[];
  /** Endpoints on this node, for Local policy. */
  readonly localEndpoints: readonly EndpointInfo[];
  /** Union of the two: every endpoint some rule may send to. */
  readonly allReachableEndpoints: readonly EndpointInfo[];
  /** Whether any usable endpoint exists anywhere (decides REJECT vs DROP). */
  readonly hasAnyEndpoints: boolean;
}

type TopologyMode = '' | typeof LABEL_HOSTNAME | typeof LABEL_TOPOLOGY_ZONE;

// Hints are only honoured when every ready endpoint carries them (the controller
// sets all or none); a node missing from all node hints (or a zone from all zone hints)
// falls back to no topology so traffic is not black-holed.
function topologyMode(endpoints: readonly EndpointInfo[], nodeName: string, zone: string): TopologyMode {
  let allNode = true;
  let forNode = false;
  let allZone = true;
  let forZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNode = false;
    else if (ep.nodeHints.includes(nodeName)) forNode = true;
    if (ep.zoneHints.length === 0) allZone = false;
    else if (ep.zoneHints.includes(zone)) forZone = true;
  }
  if (allNode && forNode) return LABEL_HOSTNAME;
  if (allZone && forZone) return LABEL_TOPOLOGY_ZONE;
  return '';
}

function availableForTopology(ep: EndpointInfo, mode: TopologyMode, nodeName: string, zone: string): boolean {
  if (mode === LABEL_HOSTNAME) return ep.nodeHints.includes(nodeName);
  if (mode === LABEL_TOPOLOGY_ZONE) return ep.zoneHints.includes(zone);
  return true;
}

/** `endpoints.filter(keep)`, or `endpoints` itself when it keeps them all (the usual all-ready Service: no copy). */
function kept(
  endpoints: readonly EndpointInfo[],
  keep: (ep: EndpointInfo) => boolean,
): readonly EndpointInfo[] {
  let i = 0;
  while (i < endpoints.length && keep(endpoints[i]!)) i++;
  return i === endpoints.length ? endpoints : endpoints.filter(keep);
}

/**
 * Upstream's CategorizeEndpoints: ready endpoints first, falling back to serving+terminating
 * ones only when none are ready; topology hints applied to cluster endpoints.
 */
export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  sp: ServicePort,
  nodeName: string,
  nodeLabels: Readonly<Record<string, string>>,
): CategorizedEndpoints {
  let clusterEndpoints: readonly EndpointInfo[] = [];
  let localEndpoints: readonly EndpointInfo[] = [];
  let hasAnyEndpoints = false;

  if (usesClusterEndpoints(sp)) {
    const zone = nodeLabels[LABEL_TOPOLOGY_ZONE] ?? '';
    const mode = topologyMode(endpoints, nodeName, zone);
    clusterEndpoints = kept(endpoints, (ep) => ep.ready && availableForTopology(ep, mode, nodeName, zone));
    if (clusterEndpoints.length === 0)
      clusterEndpoints = kept(endpoints, (ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!usesLocalEndpoints(sp)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating)
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);

  if (!usesClusterEndpoints(sp)) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  // Most Services have no endpoint on this node: no "ip:port" texts built for a set then.
  if (localEndpoints.length === 0)
    return {
      clusterEndpoints,
      localEndpoints,
      allReachableEndpoints: [...clusterEndpoints],
      hasAnyEndpoints,
    };
  const seen = new Set(clusterEndpoints.map((e) => e.endpoint));
  const allReachableEndpoints = [...clusterEndpoints, ...localEndpoints.filter((e) => !seen.has(e.endpoint))];
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}
