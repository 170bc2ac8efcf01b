/**
 * The requests a node's upstream v1.36 agents (kubelet and kube-proxy, default configuration)
 * make of the API server in steady state, derived from their source, for comparison with what
 * ours are measured to make. Steady state: every pod Running and unchanged, nothing written but
 * what the agents write on their own clocks.
 */

/** What runs on the node: what the kubelet's per-pod and per-object costs are counted from. */
export interface NodeWorkload {
  pods: number;
  /** Pods with a projected service account token (the kube-api-access volume, or their own). */
  tokenPods: number;
  /** Distinct ConfigMaps (namespace/name) the node's pods reference. */
  configMaps: number;
  /** Distinct Secrets the node's pods reference. */
  secrets: number;
}

/** The settings the profile depends on (upstream's defaults unless said). */
export interface UpstreamProfileSettings {
  /** nodeLeaseDurationSeconds (40): the Lease is renewed every quarter of it. */
  nodeLeaseDurationSeconds: number;
  /** nodeStatusReportFrequency in seconds (300): an unchanged status is PATCHed this often. */
  nodeStatusReportFrequencySeconds: number;
  /** configMapAndSecretChangeDetectionStrategy (Watch); Get's reads depend on each pod's references, not profiled here. */
  strategy: 'Watch' | 'Cache';
  /** syncFrequency in seconds (60): each pod's volumes are set up again this often. */
  syncFrequencySeconds: number;
  /** The kube-api-access token's expirationSeconds (3607, the ServiceAccount admission plugin's). */
  tokenExpirationSeconds: number;
}

export const upstreamDefaults: UpstreamProfileSettings = {
  nodeLeaseDurationSeconds: 40,
  nodeStatusReportFrequencySeconds: 300,
  strategy: 'Watch',
  syncFrequencySeconds: 60,
  tokenExpirationSeconds: 3607,
};

/** One kind of request ("VERB resource", as apiserver_request_total labels it): how many a minute, and why. */
export interface ProfileLine {
  perMinute: number;
  /** Seconds between two such requests of one source (a watch, the status, a pod's token). */
  periodSeconds: number;
  why: string;
}

export interface UpstreamApiProfile {
  requestsPerMinute: number;
  byKind: Record<string, ProfileLine>;
  /** Watches held, by resource. */
  watches: Record<string, number>;
  watchesTotal: number;
  /** Connections held to the API server (UPSTREAM_CONNECTIONS). */
  connections: number;
}

/**
 * The connections a node's upstream agents hold to the API server: one each. client-go speaks
 * HTTP/2 and carries every request and watch of one transport as streams of one connection (a
 * second opens only past the server's SETTINGS_MAX_CONCURRENT_STREAMS, hundreds). The kubelet's
 * main, event and heartbeat clients copy one rest config, which holds the one transport the
 * client certificate's rotation made (UpdateTransport, on under kubeadm); kube-proxy's clientset
 * and event client get the one transport client-go caches for their shared TLS settings.
 */
export const UPSTREAM_CONNECTIONS = { kubelet: 1, 'kube-proxy': 1 } as const;

/**
 * The mean life of a watch in seconds: client-go's reflector asks for timeoutSeconds uniform in
 * [minWatchTimeout, 2 × minWatchTimeout) with minWatchTimeout 5 min, then watches again from
 * where it was (with WatchListClient, on since v1.35, the initial state comes in the watch
 * itself: no LIST). Our Reflector asks for the same spread (watchTimeoutSeconds).
 */
export const WATCH_RENEWAL_SECONDS = 450;
/** The kubelet's token manager refreshes a token past 80 % of its lifetime (requiresRefresh). */
export const TOKEN_REFRESH_FRACTION = 0.8;
/** Upstream's Cache strategy TTL when the Node's annotation sets none (defaultTTL). */
const CACHE_TTL_SECONDS = 60;

const round = (value: number) => Number(value.toFixed(3));

/** The upstream agents' steady-state requests a minute for `workload`, by kind, with the watches they hold. */
export function upstreamApiProfile(
  workload: NodeWorkload,
  settings: UpstreamProfileSettings = upstreamDefaults,
): UpstreamApiProfile {
  const watches: Record<string, number> = {
    // kubelet: its pod source (spec.nodeName), its node informer (metadata.name, the node
    // status's and GetNode's reads), the Service lister of the service-link variables, the
    // RuntimeClass manager and the CSI plugin's CSIDriver informer.
    pods: 1,
    nodes: 1,
    services: 1,
    runtimeclasses: 1,
    csidrivers: 1,
  };
  // kube-proxy: Services (no headless ones), EndpointSlices, ServiceCIDRs (MultiCIDRServiceAllocator,
  // GA) and its own Node (NodeManager).
  watches.services = (watches.services ?? 0) + 1;
  watches.endpointslices = 1;
  watches.servicecidrs = 1;
  watches.nodes = (watches.nodes ?? 0) + 1;
  if (settings.strategy === 'Watch') {
    watches.configmaps = workload.configMaps;
    watches.secrets = workload.secrets;
  }
  const byKind: Record<string, ProfileLine> = {
    'PUT leases': {
      perMinute: 60 / (settings.nodeLeaseDurationSeconds * 0.25),
      periodSeconds: settings.nodeLeaseDurationSeconds * 0.25,
      why: 'the node lease controller renews the Lease every nodeLeaseDurationSeconds/4 (10 s) with an Update of the Lease it holds; no GET',
    },
    'PATCH nodes/status': {
      perMinute: 60 / settings.nodeStatusReportFrequencySeconds,
      periodSeconds: settings.nodeStatusReportFrequencySeconds,
      why: 'the status is computed every nodeStatusUpdateFrequency (10 s) against the node informer’s copy (no GET) and PATCHed only when it changed or every nodeStatusReportFrequency (5 min)',
    },
  };
  if (workload.tokenPods > 0) {
    byKind['POST serviceaccounts/token'] = {
      perMinute: (workload.tokenPods * 60) / (settings.tokenExpirationSeconds * TOKEN_REFRESH_FRACTION),
      periodSeconds: settings.tokenExpirationSeconds * TOKEN_REFRESH_FRACTION,
      why: 'the token manager requests a pod’s projected token again once 80 % of its expirationSeconds (3607 s) has passed',
    };
  }
  for (const [resource, count] of Object.entries(watches)) {
    if (count === 0) continue;
    byKind[`WATCH ${resource}`] = {
      perMinute: (count * 60) / WATCH_RENEWAL_SECONDS,
      periodSeconds: WATCH_RENEWAL_SECONDS,
      why: `${count} watch${count > 1 ? 'es' : ''}, each renewed when its timeoutSeconds (5–10 min) ends`,
    };
  }
  if (settings.strategy === 'Cache') {
    // Each object's volumes are read every sync; a read past the TTL GETs it.
    const perObject = Math.min(60 / settings.syncFrequencySeconds, 60 / CACHE_TTL_SECONDS);
    byKind['GET configmaps'] = {
      perMinute: workload.configMaps * perObject,
      periodSeconds: CACHE_TTL_SECONDS,
      why: 'Cache: a GET per object per TTL (1 min)',
    };
    byKind['GET secrets'] = {
      perMinute: workload.secrets * perObject,
      periodSeconds: CACHE_TTL_SECONDS,
      why: 'Cache: a GET per object per TTL (1 min)',
    };
  }
  for (const line of Object.values(byKind)) line.perMinute = round(line.perMinute);
  const requestsPerMinute = round(Object.values(byKind).reduce((sum, line) => sum + line.perMinute, 0));
  const watchesTotal = Object.values(watches).reduce((sum, count) => sum + count, 0);
  const connections = UPSTREAM_CONNECTIONS.kubelet + UPSTREAM_CONNECTIONS['kube-proxy'];
  return { requestsPerMinute, byKind, watches, watchesTotal, connections };
}
